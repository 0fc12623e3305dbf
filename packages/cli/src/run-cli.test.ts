import fs from 'node:fs'
import path from 'node:path'
import { createCollector, createMemoryEventStore, type Projection } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import { directoryLayout } from '@eskit/sqlite-store/files'
import { eventually } from '@eskit/test-kit'
import type Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.js'
import { passView, startInProcessOwner } from '../test/in-process-owner.js'
import { recordingIo } from '../test/recording-io.js'
import { EXIT_CODES } from './exit-codes.js'
import { runCli } from './run-cli.js'

describe('runCli: help, version and usage errors', () => {
  it('prints help for the program and for every command, with examples and exit codes', async () => {
    const root = recordingIo()
    expect(await runCli(['--help'], root)).toBe(EXIT_CODES.ok)
    expect(root.stdout.text).toContain('Usage: eskit [options] [command]')
    for (const command of ['status', 'rebuild', 'migrate']) expect(root.stdout.text).toContain(command)
    expect(root.stdout.text).toContain('Exit codes:')

    for (const [command, usage] of [
      ['status', 'Usage: eskit status [options]'],
      ['rebuild', 'Usage: eskit rebuild [options] <name>'],
      ['migrate', 'Usage: eskit migrate [options]'],
    ] as const) {
      for (const argv of [
        [command, '--help'],
        ['help', command],
      ]) {
        const io = recordingIo()
        expect(await runCli(argv, io)).toBe(EXIT_CODES.ok)
        expect(io.stdout.text).toContain(usage)
        expect(io.stdout.text).toContain('Examples:')
        expect(io.stdout.text).toContain('2    usage error')
        expect(io.stderr.text).toBe('')
      }
    }
  })

  it('prints the version', async () => {
    const io = recordingIo()
    expect(await runCli(['--version'], io)).toBe(EXIT_CODES.ok)
    expect(io.stdout.text).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('exits 2 with a message on stderr for every usage error', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: eskit/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['status'], /required option '--dir <dir>' not specified/],
      [['status', '--dir'], /option '--dir <dir>' argument missing/],
      [['status', '--dir', '.', '--colour'], /unknown option '--colour'/],
      [['rebuild', '--dir', '.'], /missing required argument 'name'/],
      [['rebuild', 'x', '--dir', '.', '--timeout', '0'], /expected a number of seconds greater than 0/],
      [['migrate', '--dir', '.'], /required option '--from <shared.db>' not specified/],
      [['rebuild', 'a/b', '--dir', '.'], /INVALID_NAME: invalid projection name "a\/b"/],
    ]
    for (const [argv, message] of cases) {
      const io = recordingIo()
      expect({ argv, code: await runCli(argv, io) }).toEqual({ argv, code: EXIT_CODES.usage })
      expect(io.stderr.text).toMatch(message)
      expect(io.stdout.text).toBe('')
    }
  })

  it('takes the directory from ESKIT_DIR', async () => {
    const io = recordingIo({ env: { ESKIT_DIR: '/definitely/not/here' } })
    expect(await runCli(['status'], io)).toBe(EXIT_CODES.failure)
    expect(io.stderr.text).toContain('NOT_FOUND: projection directory /definitely/not/here does not exist')
  })
})

describe('runCli against a directory owned by a collector in this process', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => {
    ;({ dir, cleanup } = tempDir())
  })
  afterEach(() => cleanup())

  it('colours the status on a terminal, and not with NO_COLOR or in a pipe', async () => {
    const collector = await startInProcessOwner(dir, { passes: 30 })
    try {
      const tty = recordingIo({ tty: true })
      expect(await runCli(['status', '--dir', dir], tty)).toBe(EXIT_CODES.ok)
      expect(tty.stdout.text).toContain('\u001b[32mlive\u001b[39m')
      expect(tty.stdout.text).toContain('\u001b[32mowned\u001b[39m by a running process')

      for (const io of [recordingIo({ tty: true, env: { NO_COLOR: '1' } }), recordingIo()]) {
        expect(await runCli(['status', '--dir', dir], io)).toBe(EXIT_CODES.ok)
        expect(io.stdout.text).toMatch(/passes\.pass_view\s+1\s+live\s+30\s+0\s/)
        expect(io.stdout.text).not.toContain('\u001b[')
      }
    } finally {
      await collector.stop()
    }
  })

  it('draws a progress bar on a terminal while following a rebuild with --wait', async () => {
    const collector = await startInProcessOwner(dir, { passes: 2000, applyDelayMs: 15 })
    try {
      const io = recordingIo({ tty: true })
      const code = await runCli(
        ['rebuild', 'passes.pass_view', '--dir', dir, '--wait', '--timeout', '50'],
        io,
      )
      expect(io.stderr.text).not.toContain('error')
      expect(code).toBe(EXIT_CODES.ok)
      expect(io.stderr.text).toContain('rebuilding passes.pass_view [')
      expect(io.stderr.text).toContain('█')
      expect(io.stderr.text).toContain('2,000/2,000 events | swapped in')
      expect(io.stdout.text).toContain('passes.pass_view: swapped in at position 2,000')
      expect(collector.status()[0]).toMatchObject({ state: 'live', position: 2000 })
    } finally {
      await collector.stop()
    }
  })

  it('stops waiting when aborted (Ctrl-C) with exit 130; the owner completes the rebuild', async () => {
    const collector = await startInProcessOwner(dir, { passes: 2000, applyDelayMs: 20 })
    try {
      const controller = new AbortController()
      const io = recordingIo({ signal: controller.signal })
      const rebuilt = new Promise<void>((resolve) => collector.on('rebuilt', () => resolve()))
      const running = runCli(['rebuild', 'passes.pass_view', '--dir', dir, '--wait'], io)
      setTimeout(() => controller.abort(), 150)
      expect(await running).toBe(EXIT_CODES.interrupted)
      expect(io.stderr.text).toContain(
        'stopped waiting; the rebuild of passes.pass_view goes on in the owning process',
      )
      await rebuilt
      await eventually(() => collector.status()[0]?.state === 'live', { what: 'live', timeoutMs: 20_000 })
      expect(collector.status()[0]).toMatchObject({ state: 'live', position: 2000 })
    } finally {
      await collector.stop()
    }
  })

  it('a projection failing in its first build: rebuild --wait ends with FAILED, not a wait until --timeout', async () => {
    const events = createMemoryEventStore({ id: 'in-process-log' })
    for (let i = 1; i <= 20; i++) await events.append(`pass-${i}`, [{ type: 'PassIssued', data: {} }])
    const failing: Projection<Database.Database> = {
      ...passView(),
      apply() {
        throw new Error('no holder in the event')
      },
    }
    const collector = createCollector({ events, store: sqliteStore({ dir }), pollIntervalMs: 20 })
    collector.add(failing)
    await collector.start()
    try {
      await eventually(() => collector.status()[0]?.state === 'failed', { what: 'failed', timeoutMs: 20_000 })
      const io = recordingIo()
      const code = await runCli(
        ['rebuild', 'passes.pass_view', '--dir', dir, '--wait', '--timeout', '10', '--json'],
        io,
      )
      expect(code).toBe(EXIT_CODES.failure)
      expect(JSON.parse(io.stdout.text)).toMatchObject({
        error: { code: 'FAILED', message: expect.stringContaining('no holder in the event') },
      })
    } finally {
      await collector.stop()
    }
  })

  it('the owner stopping gracefully during rebuild --wait ends with CLOSED, not FAILED', async () => {
    const collector = await startInProcessOwner(dir, { passes: 2000, applyDelayMs: 20 })
    const io = recordingIo()
    const running = runCli(['rebuild', 'passes.pass_view', '--dir', dir, '--wait', '--json'], io)
    // taken by the owner and under way
    const results = directoryLayout(dir).results
    await eventually(
      () =>
        fs.existsSync(results) &&
        fs
          .readdirSync(results)
          .some((file) => fs.readFileSync(path.join(results, file), 'utf8').includes('"accepted"')) &&
        collector.status()[0]?.rebuild !== undefined
          ? true
          : undefined,
      { what: 'the accepted rebuild', timeoutMs: 20_000 },
    )
    await collector.stop()
    expect(await running).toBe(EXIT_CODES.failure)
    expect(JSON.parse(io.stdout.text)).toMatchObject({
      error: { code: 'CLOSED', message: expect.stringContaining('stopped before the rebuild') },
    })
  })

  it('prints failures as JSON on stdout with --json, and the message on stderr', async () => {
    fs.mkdirSync(path.join(dir, 'p'))
    const io = recordingIo()
    expect(await runCli(['rebuild', 'ghost', '--dir', path.join(dir, 'p'), '--json'], io)).toBe(
      EXIT_CODES.failure,
    )
    expect(JSON.parse(io.stdout.text)).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: expect.stringContaining('unknown projection "ghost"'),
        details: { dir: path.join(dir, 'p'), name: 'ghost', known: [] },
      },
    })
    expect(io.stderr.text).toContain('error NOT_FOUND: unknown projection "ghost"')
  })
})

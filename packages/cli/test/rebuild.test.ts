import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { readProjectionFile, readRequestResult } from '@eskit/sqlite-store'
import { directoryLayout } from '@eskit/sqlite-store/files'
import { eventually } from '@eskit/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RebuildOutcome } from '../src/rebuild-command.js'
import { BINARY, query, runEskit, runOwnerOnce, snapshot, startOwner, tempDir } from './helpers.js'

const TARGET = 'passes.pass_view'
const OTHERS = ['scanning.scan_log', 'services.holder_list']

describe('eskit rebuild (the real binary)', () => {
  let root: string
  let dir: string
  let cleanup: () => void
  beforeEach(() => {
    ;({ dir: root, cleanup } = tempDir())
    dir = path.join(root, 'projections')
  })
  afterEach(() => cleanup())

  const file = (name: string): string => path.join(dir, `${name}.db`)

  describe('when no process owns the directory', () => {
    it("deletes just that projection's files; the next start rebuilds just it", async () => {
      await runOwnerOnce(dir, ['--passes', '300'])
      // companions a crash could leave beside the file go with it
      fs.writeFileSync(`${file(TARGET)}-wal`, '')
      fs.writeFileSync(`${file(TARGET)}-shm`, '')
      const before = snapshot(dir)
      const checkpoints = Object.fromEntries(OTHERS.map((name) => [name, readProjectionFile(file(name))]))

      const result = await runEskit(['rebuild', TARGET, '--dir', dir])
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(`deleted ${file(TARGET)}, ${file(TARGET)}-wal, ${file(TARGET)}-shm`)
      expect(result.stdout).toContain(`the next start rebuilds ${TARGET} (and only it)`)
      expect(fs.existsSync(file(TARGET))).toBe(false)
      expect(fs.existsSync(`${file(TARGET)}-wal`)).toBe(false)
      expect(fs.existsSync(`${file(TARGET)}-shm`)).toBe(false)
      const after = snapshot(dir)
      for (const name of OTHERS) expect(after[`${name}.db`]).toEqual(before[`${name}.db`])

      // the next start: the target is built again from the log, the others keep their checkpoint
      // and build time (they are not rebuilt)
      await runOwnerOnce(dir, ['--passes', '300'])
      const rebuilt = readProjectionFile(file(TARGET))
      expect(rebuilt).toMatchObject({ position: 900, version: '1', problem: null })
      expect(
        query<{ n: number; scans: number }>(file(TARGET), 'select count(*) n, sum(scans) scans from passes'),
      ).toEqual({
        n: 300,
        scans: 600,
      })
      for (const name of OTHERS) {
        const now = readProjectionFile(file(name))
        expect(now.position).toBe(900)
        expect(now.builtAt).toBe(checkpoints[name]?.builtAt)
      }
      expect(Date.parse(rebuilt.builtAt ?? '')).toBeGreaterThan(
        Date.parse(checkpoints[OTHERS[0] ?? '']?.builtAt ?? ''),
      )
    })

    it('prints the outcome as JSON with --json', async () => {
      await runOwnerOnce(dir, ['--passes', '50'])
      const result = await runEskit(['rebuild', TARGET, '--dir', dir, '--json'])
      expect(result.code).toBe(0)
      const outcome = JSON.parse(result.stdout) as RebuildOutcome
      expect(outcome).toMatchObject({
        name: TARGET,
        dir,
        action: 'deleted',
        deleted: [file(TARGET)],
        requestId: null,
        state: null,
        interrupted: false,
      })
    })

    it('refuses an unknown projection with exit 1 and touches nothing', async () => {
      await runOwnerOnce(dir, ['--passes', '50'])
      const before = snapshot(dir)
      const result = await runEskit(['rebuild', 'passes.pass_vue', '--dir', dir])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(
        /NOT_FOUND: unknown projection "passes\.pass_vue": there is no passes\.pass_vue\.db/,
      )
      expect(result.stderr).toContain(
        'known projections: passes.pass_view, scanning.scan_log, services.holder_list',
      )
      expect(snapshot(dir)).toEqual(before)
    })

    it('refuses an invalid name with exit 2 and INVALID_NAME before touching anything', async () => {
      await runOwnerOnce(dir, ['--passes', '50'])
      // a file the name would reach if it were not validated
      fs.writeFileSync(path.join(root, 'outside.db'), 'keep me')
      const before = snapshot(root)
      for (const name of ['../outside', 'a/b', '.hidden', 'x'.repeat(129)]) {
        const result = await runEskit(['rebuild', name, '--dir', dir])
        expect(result.code).toBe(2)
        expect(result.stderr).toContain('INVALID_NAME')
      }
      const json = await runEskit(['rebuild', '../outside', '--dir', dir, '--json'])
      expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'INVALID_NAME' } })
      expect(snapshot(root)).toEqual(before)
    })

    it('fails with exit 1 for a missing directory, creating nothing', async () => {
      const result = await runEskit(['rebuild', TARGET, '--dir', dir])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/NOT_FOUND: projection directory .* does not exist/)
      expect(fs.existsSync(dir)).toBe(false)
    })
  })

  describe('when a process owns the directory', () => {
    it('asks the owner, and with --wait follows the progress until the rebuilt file is swapped in while reads go on', async () => {
      const owner = await startOwner(dir, ['--passes', '2000', '--apply-delay-ms', '40'])
      let report: Awaited<ReturnType<typeof owner.stop>>
      const builtBefore = readProjectionFile(file(TARGET)).builtAt
      const others = Object.fromEntries(OTHERS.map((name) => [name, readProjectionFile(file(name)).builtAt]))
      try {
        const result = await runEskit(['rebuild', TARGET, '--dir', dir, '--wait', '--timeout', '50'])
        expect(result.code).toBe(0)
        expect(result.stderr).toMatch(
          new RegExp(
            `asked the owning process \\(pid ${owner.pid}\\) to rebuild ${TARGET.replace('.', '\\.')} with no downtime`,
          ),
        )
        // not a terminal: plain progress lines instead of a bar
        expect(result.stderr).toMatch(/rebuilding passes\.pass_view: [\d,]+\/6,000 events \(\d+%\)/)
        expect(result.stderr).toContain('rebuilding passes.pass_view: 6,000/6,000 events (100%), swapped in')
        expect(result.stdout).toMatch(/rebuilt passes\.pass_view: swapped in at position 6,000 after/)
        const rebuilt = readProjectionFile(file(TARGET))
        expect(rebuilt.position).toBe(6000)
        expect(rebuilt.builtAt).not.toBe(builtBefore)
        for (const name of OTHERS) expect(readProjectionFile(file(name)).builtAt).toBe(others[name])
      } finally {
        report = await owner.stop()
      }
      // the first start built every file; after it, only the requested one was rebuilt (beside, swapped)
      const swaps = report.rebuilt.filter((r) => r.swapped)
      expect(swaps.map((r) => [r.name, r.position])).toEqual([[TARGET, 6000]])
      // the owner read the pass view every few milliseconds the whole time: never an error or a gap
      expect(report.reads).toBeGreaterThan(10)
      expect(report.readErrors).toEqual([])
    })

    it('returns at once without --wait; the request is carried out in the background', async () => {
      const owner = await startOwner(dir, ['--passes', '300'])
      try {
        const result = await runEskit(['rebuild', TARGET, '--dir', dir, '--json'])
        expect(result.code).toBe(0)
        const outcome = JSON.parse(result.stdout) as RebuildOutcome
        expect(outcome).toMatchObject({ action: 'requested', name: TARGET, deleted: [] })
        expect(['pending', 'accepted']).toContain(outcome.state)
        const done = await eventually(
          () => {
            const state = readRequestResult(dir, outcome.requestId ?? '')
            return state?.state === 'done' ? state : undefined
          },
          { timeoutMs: 20_000 },
        )
        expect(done.position).toBe(900)
        expect(fs.existsSync(file(TARGET))).toBe(true)
      } finally {
        await owner.stop()
      }
    })

    it('refuses a name that has no file and that the owner does not run, writing no request', async () => {
      const owner = await startOwner(dir, ['--passes', '50'])
      try {
        const result = await runEskit(['rebuild', 'nope.view', '--dir', dir, '--wait'])
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/unknown projection "nope\.view".*the owning process does not run it/)
        const requests = directoryLayout(dir).requests
        expect(fs.existsSync(requests) ? fs.readdirSync(requests) : []).toEqual([])
      } finally {
        await owner.stop()
      }
    })

    it('reports a rejected request (a file the owner does not run) with exit 1', async () => {
      const owner = await startOwner(dir, ['--passes', '50'])
      try {
        // a stray projection file in the directory that this application does not run
        fs.copyFileSync(file('services.holder_list'), file('legacy.view'))
        const result = await runEskit(['rebuild', 'legacy.view', '--dir', dir, '--wait', '--timeout', '20'])
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/FAILED: the owning process rejected the rebuild of legacy\.view/)
        expect(fs.existsSync(file('legacy.view'))).toBe(true)
      } finally {
        await owner.stop()
      }
    })

    it('gives up after --timeout with exit 1 and TIMEOUT; the owner still finishes the rebuild', async () => {
      const owner = await startOwner(dir, ['--passes', '2000', '--apply-delay-ms', '60'])
      try {
        const result = await runEskit([
          'rebuild',
          TARGET,
          '--dir',
          dir,
          '--wait',
          '--timeout',
          '0.3',
          '--json',
        ])
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/TIMEOUT: gave up waiting for the rebuild of passes\.pass_view/)
        const error = JSON.parse(result.stdout) as { error: { code: string; details: { requestId: string } } }
        expect(error.error.code).toBe('TIMEOUT')
        const done = await eventually(
          () => {
            const state = readRequestResult(dir, error.error.details.requestId)
            return state?.state === 'done' ? state : undefined
          },
          { timeoutMs: 30_000 },
        )
        expect(done.position).toBe(6000)
      } finally {
        await owner.stop()
      }
    })

    it('stops waiting on Ctrl-C with exit 130; the owner finishes the rebuild', async () => {
      const owner = await startOwner(dir, ['--passes', '2000', '--apply-delay-ms', '200'])
      try {
        let interrupted = false
        const child = spawn(process.execPath, [BINARY, 'rebuild', TARGET, '--dir', dir, '--wait', '--json'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let stdout = ''
        let stderr = ''
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk
        })
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk
          // interrupt once, while the owner is rebuilding
          if (
            !interrupted &&
            /rebuilding passes\.pass_view: [\d,]+\/6,000 events \((\d|[1-9]\d)%\)/.test(stderr)
          ) {
            interrupted = true
            child.kill('SIGINT')
          }
        })
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
        expect(code).toBe(130)
        expect(stderr).toContain(
          'stopped waiting; the rebuild of passes.pass_view goes on in the owning process',
        )
        const outcome = JSON.parse(stdout) as RebuildOutcome
        expect(outcome).toMatchObject({ action: 'requested', interrupted: true })
        const done = await eventually(
          () => {
            const state = readRequestResult(dir, outcome.requestId ?? '')
            return state?.state === 'done' ? state : undefined
          },
          { timeoutMs: 30_000 },
        )
        expect(done.position).toBe(6000)
      } finally {
        await owner.stop()
      }
    })

    it('fails with exit 1 when the owner dies during the rebuild', async () => {
      const owner = await startOwner(dir, ['--passes', '2000', '--apply-delay-ms', '100'])
      const waiting = runEskit(['rebuild', TARGET, '--dir', dir, '--wait'])
      await eventually(
        () =>
          fs.existsSync(directoryLayout(dir).results) &&
          fs.readdirSync(directoryLayout(dir).results).length > 0
            ? true
            : undefined,
        { timeoutMs: 20_000 },
      )
      await owner.kill()
      const result = await waiting
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(
        /CLOSED: the process that owned .* stopped before rebuilding passes\.pass_view/,
      )
      // the old file still serves; the next start discards the half-built one
      expect(readProjectionFile(file(TARGET)).position).toBe(6000)
    })
  })

  it('exits 2 on usage errors, touching nothing', async () => {
    await runOwnerOnce(dir, ['--passes', '20'])
    const before = snapshot(dir)
    const cases: string[][] = [
      ['rebuild', '--dir', dir],
      ['rebuild', TARGET],
      ['rebuild', TARGET, '--dir', dir, '--timeout', 'soon'],
      ['rebuild', TARGET, '--dir', dir, '--timeout', '-1'],
      ['rebuild', TARGET, '--dir', dir, '--bogus'],
      ['rebuild', TARGET, 'extra', '--dir', dir],
    ]
    for (const args of cases) {
      const result = await runEskit(args)
      expect({ args, code: result.code }).toEqual({ args, code: 2 })
      expect(result.stderr).toMatch(/^error: /)
    }
    expect(snapshot(dir)).toEqual(before)
  })
})

import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EventStore } from '@eskit/core'
import { isEskitError } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { directoryLayout } from '../src/files.js'
import {
  isDirectoryOwned,
  readProjectionFile,
  readRequestResult,
  requestRebuild,
  sqliteStore,
} from '../src/index.js'
import { defer, recordingLogger, tempDir } from './support.js'

const CHILD = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url))
const TIMEOUT = 30_000

type Line = Record<string, unknown>

interface Child {
  readonly process: ChildProcess
  readonly lines: Line[]
  waitFor(predicate: (line: Line) => boolean, what: string, timeoutMs?: number): Promise<Line>
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>
  /** SIGTERM (a clean stop), resolved once the process is gone. */
  stop(): Promise<void>
}

function spawnChild(config: Record<string, unknown>): Child {
  const proc = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ESKIT_CHILD: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Line[] = []
  let stderr = ''
  let buffered = ''
  const listeners = new Set<() => void>()
  proc.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as Line)
    for (const listener of listeners) listener()
  })
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  proc.once('exit', () => {
    for (const listener of listeners) listener()
  })
  const gone = (): boolean => proc.exitCode !== null || proc.signalCode !== null
  defer(async () => {
    if (!gone()) proc.kill('SIGKILL')
    await exited
  })
  return {
    process: proc,
    lines,
    waitFor(predicate, what, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(predicate)
          if (found) {
            cleanup()
            resolve(found)
          } else if (gone()) {
            cleanup()
            reject(
              new Error(`child exited before ${what}; stderr: ${stderr}; lines: ${JSON.stringify(lines)}`),
            )
          }
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(
            new Error(`timed out waiting for ${what}; stderr: ${stderr}; lines: ${JSON.stringify(lines)}`),
          )
        }, timeoutMs)
        const cleanup = (): void => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      })
    },
    async kill() {
      if (!gone()) proc.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (!gone()) proc.kill('SIGTERM')
      await exited
    },
  }
}

async function until<T>(
  probe: () => T | undefined | false | null,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let value: T | undefined | false | null
    try {
      value = probe()
    } catch {
      value = undefined
    }
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

interface Snapshot {
  version: string
  position: number
  rows: Array<{ position: number; value: string }>
}

/**
 * Metadata and rows of a projection file, read in one read transaction by a separate read-only
 * connection. A file a killed process left needing recovery (hot journal, WAL) is read through a
 * private copy, recovered there as the next owner would, so the original stays as the crash left it.
 */
function readSnapshot(file: string): Snapshot {
  try {
    return snapshotOf(new Database(file, { readonly: true, fileMustExist: true }))
  } catch (error) {
    if (!/^SQLITE_READONLY/.test(String((error as { code?: unknown }).code))) throw error
  }
  const copyDir = fs.mkdtempSync(path.join(path.dirname(path.dirname(file)), 'copy-'))
  try {
    const copy = path.join(copyDir, 'copy.db')
    fs.copyFileSync(file, copy)
    for (const suffix of ['-wal', '-journal']) {
      if (fs.existsSync(`${file}${suffix}`)) fs.copyFileSync(`${file}${suffix}`, `${copy}${suffix}`)
    }
    return snapshotOf(new Database(copy, { fileMustExist: true }))
  } finally {
    fs.rmSync(copyDir, { recursive: true, force: true })
  }
}

function snapshotOf(db: Database.Database): Snapshot {
  try {
    return db.transaction(() => {
      const meta = db.prepare('select version, position from _eskit_projection').get() as {
        version: string
        position: number
      }
      const rows = db.prepare('select position, value from rows order by position').all() as Snapshot['rows']
      return { ...meta, rows }
    })()
  } finally {
    db.close()
  }
}

/** What a fresh rebuild of the child's projection at `version` holds after every event of the log. */
async function expectedRows(events: EventStore, version: string): Promise<Snapshot['rows']> {
  const all = await events.readAll({ after: 0, limit: 1_000_000 })
  return all.map((event) => ({
    position: event.position,
    value: `${version}:${(event.data as { n: number }).n}`,
  }))
}

async function setup(eventCount: number): Promise<{ dir: string; log: string; events: EventStore }> {
  const root = tempDir()
  const dir = path.join(root, 'projections')
  const log = path.join(root, 'events.db')
  const events = openSqliteEventStore({ path: log })
  defer(() => events.close())
  await append(events, eventCount)
  return { dir, log, events }
}

async function append(events: EventStore, count: number): Promise<void> {
  let n = await events.head()
  for (let written = 0; written < count; written += 25) {
    const batch = Array.from({ length: Math.min(25, count - written) }, () => ({
      type: 'Tick',
      data: { n: ++n },
    }))
    await events.append(`stream-${n % 7}`, batch)
  }
}

const at = (dir: string, name: string): string => path.join(dir, `${name}.db`)

/** Files in the builds folder (none when it was never created). */
const builds = (dir: string): string[] => {
  const folder = directoryLayout(dir).builds
  return fs.existsSync(folder) ? fs.readdirSync(folder) : []
}

describe('process level: ownership', () => {
  it('a second process gets LOCKED at once; a killed owner leaves no stale lock', {
    timeout: TIMEOUT,
  }, async () => {
    const dir = tempDir()
    const owner = spawnChild({ mode: 'hold', dir })
    await owner.waitFor((l) => l.ready === true, 'the owner to start')
    expect(isDirectoryOwned(dir)).toBe(true)

    const second = sqliteStore({ dir })
    const started = Date.now()
    const error = await second.open({ logId: 'x', logger: recordingLogger() }).catch((e: unknown) => e)
    expect(isEskitError(error, 'LOCKED')).toBe(true)
    // "at once": no waiting on a busy timeout (a generous bound, not a benchmark)
    expect(Date.now() - started).toBeLessThan(2000)

    await owner.kill()
    expect(isDirectoryOwned(dir)).toBe(false)
    const third = sqliteStore({ dir })
    await third.open({ logId: 'x', logger: recordingLogger() })
    expect(isDirectoryOwned(dir)).toBe(true)
    await third.close()
    expect(isDirectoryOwned(dir)).toBe(false)
  })
})

describe('process level: per-file isolation', () => {
  it('deleting one of three files while running rebuilds only it; the other two keep inode and checkpoint', {
    timeout: TIMEOUT,
  }, async () => {
    const { dir, log, events } = await setup(120)
    const child = spawnChild({ mode: 'collect', dir, log, projections: { a: '1', b: '1', c: '1' } })
    await child.waitFor((l) => l.ready === true, 'start')
    for (const name of ['a', 'b', 'c']) {
      // new projections: each is built once from the log first
      await child.waitFor((l) => l.rebuilt === name, `${name} built`)
      await until(() => readProjectionFile(at(dir, name)).position === 120, `${name} at the head`)
    }
    const before = Object.fromEntries(
      ['b', 'c'].map((name) => [
        name,
        { ino: fs.statSync(at(dir, name)).ino, position: readSnapshot(at(dir, name)).position },
      ]),
    )
    const aBuiltAt = readProjectionFile(at(dir, 'a')).builtAt

    const mark = child.lines.length
    fs.rmSync(at(dir, 'a'))
    await child.waitFor((l) => l.rebuilt === 'a' && child.lines.indexOf(l) >= mark, 'a to be rebuilt')
    await until(() => readSnapshot(at(dir, 'a')).position === 120, 'a back at the head')
    expect(readSnapshot(at(dir, 'a')).rows).toEqual(await expectedRows(events, '1'))
    expect(readProjectionFile(at(dir, 'a')).builtAt).not.toBe(aBuiltAt)
    for (const name of ['b', 'c']) {
      expect(fs.statSync(at(dir, name)).ino).toBe(before[name]?.ino)
      expect(readSnapshot(at(dir, name)).position).toBe(before[name]?.position)
    }
    expect(
      child.lines
        .slice(mark)
        .filter((l) => l.rebuilt !== undefined)
        .map((l) => l.rebuilt),
    ).toEqual(['a'])

    // they all go on live
    await append(events, 10)
    for (const name of ['a', 'b', 'c']) {
      await until(() => readSnapshot(at(dir, name)).position === 130, `${name} live`)
      expect(readSnapshot(at(dir, name)).rows).toEqual(await expectedRows(events, '1'))
    }
    await child.stop()
  })

  it('a corrupt file is moved aside and rebuilt; a rebuild requested from another process swaps with no downtime', {
    timeout: TIMEOUT,
  }, async () => {
    const { dir, log, events } = await setup(80)
    const first = spawnChild({ mode: 'collect', dir, log, projections: { a: '1', b: '1' } })
    await first.waitFor((l) => l.ready === true, 'start')
    await until(() => readProjectionFile(at(dir, 'b')).position === 80, 'b at the head')
    await first.stop()
    const aInode = fs.statSync(at(dir, 'a')).ino
    const aBuiltAt = readProjectionFile(at(dir, 'a')).builtAt
    fs.writeFileSync(at(dir, 'b'), 'garbage where a projection was')

    const second = spawnChild({ mode: 'collect', dir, log, projections: { a: '1', b: '1' } })
    await second.waitFor((l) => l.ready === true, 'restart')
    const warning = await second.waitFor((l) => l.log === 'warn', 'the quarantine warning')
    expect(warning).toMatchObject({
      fields: { name: 'b', reason: expect.stringMatching(/not a SQLite database/) },
    })
    await until(() => readProjectionFile(at(dir, 'b')).position === 80, 'b rebuilt')
    expect(readSnapshot(at(dir, 'b')).rows).toEqual(await expectedRows(events, '1'))
    expect(fs.readdirSync(directoryLayout(dir).quarantine)).toEqual([expect.stringMatching(/^b\..+\.db$/)])
    expect(fs.statSync(at(dir, 'a')).ino).toBe(aInode)

    // `eskit rebuild a` while the owner runs: a request file, picked up, built beside and swapped
    const id = requestRebuild(dir, 'a')
    const result = await until(() => {
      const r = readRequestResult(dir, id)
      return r?.state === 'done' || r?.state === 'failed' ? r : undefined
    }, 'the request outcome')
    expect(result).toMatchObject({ state: 'done', name: 'a', position: 80 })
    expect(readProjectionFile(at(dir, 'a')).builtAt).not.toBe(aBuiltAt)
    expect(readSnapshot(at(dir, 'a')).rows).toEqual(await expectedRows(events, '1'))
    await second.stop()
  })
})

describe('process level: build beside, swap, crash', () => {
  it('a version bump serves the old file during the build, the new after; SIGKILL mid-build keeps the old serving', {
    timeout: TIMEOUT,
  }, async () => {
    const { dir, log, events } = await setup(300)
    const v1 = spawnChild({ mode: 'collect', dir, log, projections: { a: '1' } })
    await v1.waitFor((l) => l.ready === true, 'v1 start')
    await until(() => readProjectionFile(at(dir, 'a')).position === 300, 'v1 at the head')
    await v1.stop()
    const v1Rows = await expectedRows(events, '1')

    // a slow build of version 2, killed in the middle
    const slow = spawnChild({ mode: 'collect', dir, log, projections: { a: '2' }, slowMs: 40, batchSize: 10 })
    await slow.waitFor((l) => l.ready === true, 'v2 start')
    await until(() => builds(dir).length > 0, 'a build file')
    for (let i = 0; i < 5; i++) {
      expect(readSnapshot(at(dir, 'a'))).toEqual({ version: '1', position: 300, rows: v1Rows })
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    await slow.kill()
    expect(readSnapshot(at(dir, 'a'))).toEqual({ version: '1', position: 300, rows: v1Rows })

    // restarted: the half build is discarded, reads keep coming from v1 until the swap
    const v2 = spawnChild({ mode: 'collect', dir, log, projections: { a: '2' }, slowMs: 5, batchSize: 20 })
    const seen = new Set<string>()
    let done = false
    const watch = (async () => {
      while (!done) {
        // every read sees one complete version: never a missing file, never a half build
        expect(fs.existsSync(at(dir, 'a'))).toBe(true)
        const snapshot = readSnapshot(at(dir, 'a'))
        expect(snapshot.rows).toEqual(await expectedRows(events, snapshot.version))
        seen.add(snapshot.version)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    // a failed read inside the watcher ends the race with its own error
    await Promise.race([v2.waitFor((l) => l.rebuilt === 'a', 'v2 swapped in'), watch])
    await Promise.race([until(() => seen.has('2'), 'the reader to see v2'), watch])
    done = true
    await watch
    expect([...seen].sort()).toEqual(['1', '2'])
    expect(readSnapshot(at(dir, 'a'))).toEqual({
      version: '2',
      position: 300,
      rows: await expectedRows(events, '2'),
    })
    expect(builds(dir)).toEqual([])
    await v2.stop()
  })

  for (const moment of ['before-rename', 'after-rename'] as const) {
    it(`SIGKILL during the swap (${moment}): one complete file serves; a restart ends equal to a fresh rebuild`, {
      timeout: TIMEOUT,
    }, async () => {
      const { dir, log, events } = await setup(200)
      const v1 = spawnChild({ mode: 'collect', dir, log, projections: { a: '1', b: '1' } })
      await v1.waitFor((l) => l.ready === true, 'v1 start')
      await until(() => readProjectionFile(at(dir, 'a')).position === 200, 'v1 at the head')
      await until(() => readProjectionFile(at(dir, 'b')).position === 200, 'b at the head')
      await v1.stop()
      const bBefore = {
        ino: fs.statSync(at(dir, 'b')).ino,
        builtAt: readProjectionFile(at(dir, 'b')).builtAt,
      }

      const dying = spawnChild({
        mode: 'collect',
        dir,
        log,
        projections: { a: '2', b: '1' },
        killAtSwap: moment,
      })
      await new Promise<void>((resolve) => dying.process.once('exit', () => resolve()))
      expect(dying.process.signalCode).toBe('SIGKILL')
      const served = readSnapshot(at(dir, 'a'))
      const version = moment === 'before-rename' ? '1' : '2'
      expect(served).toEqual({ version, position: 200, rows: await expectedRows(events, version) })

      const restarted = spawnChild({ mode: 'collect', dir, log, projections: { a: '2', b: '1' } })
      await restarted.waitFor((l) => l.ready === true, 'restart')
      await until(() => readProjectionFile(at(dir, 'a')).version === '2', 'v2 served')
      await append(events, 5)
      await until(() => readSnapshot(at(dir, 'a')).position === 205, 'a live')
      expect(readSnapshot(at(dir, 'a')).rows).toEqual(await expectedRows(events, '2'))
      expect(builds(dir)).toEqual([])
      expect(fs.statSync(at(dir, 'b')).ino).toBe(bBefore.ino)
      expect(readProjectionFile(at(dir, 'b')).builtAt).toBe(bBefore.builtAt)
      await restarted.stop()
    })
  }

  it('SIGKILL at random instants of repeated builds and swaps: every restart serves what a fresh rebuild gives', {
    timeout: 60_000,
  }, async () => {
    const { dir, log, events } = await setup(150)
    const expected = await expectedRows(events, '1')
    for (let round = 0; round < 4; round++) {
      const churn = spawnChild({ mode: 'churn', dir, log, projections: { a: '1' }, batchSize: 50 })
      await churn.waitFor((l) => typeof l.round === 'number' && l.round >= 2 + round, 'some swaps')
      // land anywhere in the next build or swap
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 25)))
      await churn.kill()
      // the name always points at a complete file
      expect(readSnapshot(at(dir, 'a'))).toEqual({ version: '1', position: 150, rows: expected })

      const check = spawnChild({ mode: 'collect', dir, log, projections: { a: '1' } })
      await check.waitFor((l) => l.ready === true, 'restart')
      expect(readSnapshot(at(dir, 'a'))).toEqual({ version: '1', position: 150, rows: expected })
      expect(builds(dir)).toEqual([])
      await check.stop()
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['.eskit', 'a.db'])
  })
})

import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {
  createCollector,
  createMemoryEventStore,
  type EventStore,
  isEskitError,
  type Projection,
  type RebuiltInfo,
} from '@eskit/core'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { defer, recordingLogger, tempDir } from '../test/support.js'
import { readProjectionFile } from './inspect.js'
import { acquireOwnership } from './ownership.js'
import { type SnapshotProgress, snapshotProjections } from './snapshot.js'
import { sqliteStore } from './sqlite-store.js'

const NAMES = ['a', 'b', 'c'] as const

/** One row per event it applied; counts what it applied, so a test can tell a replay from a resume. */
function countingProjection(
  name: string,
  version = '1',
): Projection<Database.Database> & { applied: number } {
  const projection = {
    name,
    version,
    applied: 0,
    setup(db: Database.Database) {
      db.exec('create table rows (position integer primary key, n integer not null)')
    },
    apply(events: readonly { position: number; data: unknown }[], db: Database.Database) {
      const insert = db.prepare('insert into rows (position, n) values (?, ?)')
      for (const event of events) insert.run(event.position, (event.data as { n: number }).n)
      projection.applied += events.length
    },
  }
  return projection
}

async function append(events: EventStore, count: number): Promise<void> {
  let n = await events.head()
  for (let i = 0; i < count; i++) {
    n += 1
    await events.append(`s-${n % 5}`, [{ type: 'Tick', data: { n } }])
  }
}

/** A running collector with projections a, b, c on `dir`, caught up with `count` events. */
async function runningNode(dir: string, events: EventStore, names: readonly string[] = NAMES) {
  const projections = names.map((name) => countingProjection(name))
  const rebuilt: RebuiltInfo[] = []
  const collector = createCollector({ events, store: sqliteStore({ dir }), logger: recordingLogger() })
  for (const projection of projections) collector.add(projection)
  collector.on('rebuilt', (info: RebuiltInfo) => rebuilt.push(info))
  defer(() => collector.stop())
  await collector.start()
  await collector.waitFor(await events.head(), { timeoutMs: 20_000 })
  return { collector, projections, rebuilt }
}

const rowsIn = (file: string): Array<{ position: number; n: number }> => {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    return db.prepare('select position, n from rows order by position').all() as Array<{
      position: number
      n: number
    }>
  } finally {
    db.close()
  }
}

const expectedRows = (upTo: number): Array<{ position: number; n: number }> =>
  Array.from({ length: upTo }, (_, i) => ({ position: i + 1, n: i + 1 }))

const sha256 = (file: string): string =>
  `sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise
  } catch (error) {
    if (isEskitError(error)) return error
    throw error
  }
  throw new Error('expected a rejection')
}

describe('snapshotProjections', () => {
  it('copies every projection file of a running node: self-contained, consistent, checksummed', async () => {
    const root = tempDir()
    const dir = path.join(root, 'node-a')
    const out = path.join(root, 'snapshot')
    const events = createMemoryEventStore({ id: 'log-snap' })
    await append(events, 60)
    await runningNode(dir, events)

    const updates: SnapshotProgress[] = []
    const report = await snapshotProjections({ dir, out, onProgress: (p) => updates.push(p) })

    expect(report).toMatchObject({ dir, out, owned: true, skipped: [] })
    expect(report.projections.map((p) => p.name)).toEqual([...NAMES])
    // only the projection files: no -wal/-shm, no helper files of the source
    expect(fs.readdirSync(out).sort()).toEqual(['a.db', 'b.db', 'c.db'])
    for (const file of report.projections) {
      expect(file).toMatchObject({
        version: '1',
        logId: 'log-snap',
        position: 60,
        file: path.join(out, `${file.name}.db`),
      })
      expect(file.bytes).toBe(fs.statSync(file.file).size)
      expect(file.checksum).toBe(sha256(file.file))
      // rollback-journal header: opened anywhere, it needs no companion file
      expect(fs.readFileSync(file.file)[18]).toBe(1)
      expect(readProjectionFile(file.file)).toMatchObject({ position: 60, problem: null })
      expect(rowsIn(file.file)).toEqual(expectedRows(60))
    }
    expect(report.totalBytes).toBe(report.projections.reduce((sum, p) => sum + p.bytes, 0))
    const last = updates.at(-1)
    expect(last).toMatchObject({ filesDone: 3, filesTotal: 3, bytesDone: report.totalBytes })
    expect(last?.bytesTotal).toBe(report.totalBytes)
    // progress only moves forward
    for (let i = 1; i < updates.length; i++) {
      expect(updates[i]?.bytesDone).toBeGreaterThanOrEqual(updates[i - 1]?.bytesDone ?? 0)
    }
  })

  it('a node started on the snapshot against the same log replays only the events after each checkpoint', async () => {
    const root = tempDir()
    const dir = path.join(root, 'node-a')
    const out = path.join(root, 'node-c')
    const events = createMemoryEventStore({ id: 'log-snap' })
    await append(events, 40)
    const nodeA = await runningNode(dir, events)
    const report = await snapshotProjections({ dir, out, names: ['a', 'b'] })
    expect(report.projections.map((p) => [p.name, p.position])).toEqual([
      ['a', 40],
      ['b', 40],
    ])
    await nodeA.collector.stop()
    await append(events, 25)

    const nodeC = await runningNode(out, events)
    const applied = Object.fromEntries(nodeC.projections.map((p) => [p.name, p.applied]))
    // a and b resume at 40; c had no file in the snapshot and is built from scratch
    expect(applied).toEqual({ a: 25, b: 25, c: 65 })
    expect(nodeC.rebuilt.map((r) => r.name)).toEqual(['c'])
    for (const name of NAMES) expect(rowsIn(path.join(out, `${name}.db`))).toEqual(expectedRows(65))
  })

  it('against another log, a node started on the snapshot rebuilds every file (behaviour 3)', async () => {
    const root = tempDir()
    const dir = path.join(root, 'node-a')
    const out = path.join(root, 'node-c')
    const events = createMemoryEventStore({ id: 'log-snap' })
    await append(events, 30)
    const nodeA = await runningNode(dir, events)
    await snapshotProjections({ dir, out })
    await nodeA.collector.stop()

    const other = createMemoryEventStore({ id: 'log-other' })
    await append(other, 12)
    const nodeC = await runningNode(out, other)
    expect(nodeC.projections.map((p) => p.applied)).toEqual([12, 12, 12])
    expect(nodeC.rebuilt.map((r) => r.name).sort()).toEqual([...NAMES])
    for (const name of NAMES) {
      expect(rowsIn(path.join(out, `${name}.db`))).toEqual(expectedRows(12))
      expect(readProjectionFile(path.join(out, `${name}.db`))).toMatchObject({
        logId: 'log-other',
        position: 12,
      })
    }
  })

  it('refuses to overwrite: ALREADY_EXISTS before anything is written, the existing file untouched', async () => {
    const root = tempDir()
    const dir = path.join(root, 'node-a')
    const out = path.join(root, 'out')
    const events = createMemoryEventStore({ id: 'log-snap' })
    await append(events, 10)
    await runningNode(dir, events)
    fs.mkdirSync(out)
    fs.writeFileSync(path.join(out, 'b.db'), 'an operator file')
    fs.writeFileSync(path.join(out, 'notes.txt'), 'kept')

    const error = await rejection(snapshotProjections({ dir, out }))
    expect(error.code).toBe('ALREADY_EXISTS')
    expect(error.message).toMatch(/b\.db/)
    expect(fs.readdirSync(out).sort()).toEqual(['b.db', 'notes.txt'])
    expect(fs.readFileSync(path.join(out, 'b.db'), 'utf8')).toBe('an operator file')

    // the other files can still be taken by name; a second run refuses them in turn
    const report = await snapshotProjections({ dir, out, names: ['a', 'c'] })
    expect(report.projections.map((p) => p.name)).toEqual(['a', 'c'])
    const again = await rejection(snapshotProjections({ dir, out, names: ['a'] }))
    expect(again.code).toBe('ALREADY_EXISTS')
    expect(sha256(path.join(out, 'a.db'))).toBe(report.projections[0]?.checksum)
  })

  it('bad input: INVALID_NAME, NOT_FOUND, the source as target, a target owned by a process; nothing written', async () => {
    const root = tempDir()
    const dir = path.join(root, 'node-a')
    const out = path.join(root, 'out')
    const events = createMemoryEventStore({ id: 'log-snap' })
    await append(events, 5)
    await runningNode(dir, events)

    for (const name of ['../x', 'a/b', '.eskit', '']) {
      expect((await rejection(snapshotProjections({ dir, out, names: [name] }))).code, name).toBe(
        'INVALID_NAME',
      )
    }
    expect((await rejection(snapshotProjections({ dir, out, names: ['a', 'missing'] }))).code).toBe(
      'NOT_FOUND',
    )
    expect((await rejection(snapshotProjections({ dir: path.join(root, 'nope'), out }))).code).toBe(
      'NOT_FOUND',
    )
    expect((await rejection(snapshotProjections({ dir, out: dir }))).code).toBe('INVALID_ARGUMENT')
    expect((await rejection(snapshotProjections({ dir, out, pagesPerStep: 0 }))).code).toBe(
      'INVALID_ARGUMENT',
    )
    expect(fs.existsSync(out)).toBe(false)
    expect(fs.existsSync(path.join(root, 'x.db'))).toBe(false)

    const owned = path.join(root, 'owned')
    const lock = acquireOwnership(owned)
    defer(() => lock.release())
    expect((await rejection(snapshotProjections({ dir, out: owned }))).code).toBe('LOCKED')
    expect(fs.readdirSync(owned)).toEqual(['.eskit'])
  })

  it('a file that is not a projection is skipped and reported, or CORRUPT when named', async () => {
    const root = tempDir()
    const dir = path.join(root, 'node-a')
    const out = path.join(root, 'out')
    const events = createMemoryEventStore({ id: 'log-snap' })
    await append(events, 8)
    const node = await runningNode(dir, events, ['a'])
    await node.collector.stop()
    fs.writeFileSync(
      path.join(dir, 'junk.db'),
      'not a database at all, and long enough to be read as a header'.repeat(4),
    )
    const foreign = new Database(path.join(dir, 'plain.db'))
    foreign.exec('create table t (x)')
    foreign.close()

    const logger = recordingLogger()
    const report = await snapshotProjections({ dir, out, logger })
    expect(report.owned).toBe(false)
    expect(report.projections.map((p) => p.name)).toEqual(['a'])
    expect(report.skipped.map((s) => s.name)).toEqual(['junk', 'plain'])
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.fields?.name)).toEqual([
      'junk',
      'plain',
    ])
    expect(fs.readdirSync(out).sort()).toEqual(['a.db'])

    const out2 = path.join(root, 'out2')
    const error = await rejection(snapshotProjections({ dir, out: out2, names: ['a', 'plain'] }))
    expect(error.code).toBe('CORRUPT')
    // a.db had been copied when plain.db failed: removed again, out2 as it was (absent)
    expect(fs.existsSync(out2)).toBe(false)
  })

  it('aborted between two chunks: CLOSED, and every file it wrote is removed', async () => {
    const root = tempDir()
    const dir = path.join(root, 'node-a')
    const out = path.join(root, 'out')
    const events = createMemoryEventStore({ id: 'log-snap' })
    await append(events, 3000)
    const node = await runningNode(dir, events, ['a', 'b'])
    await node.collector.stop()
    fs.mkdirSync(out)

    const controller = new AbortController()
    const error = await rejection(
      snapshotProjections({
        dir,
        out,
        signal: controller.signal,
        // abort in the middle of the second file, once the first is in place
        onProgress: (p) => {
          if (p.name === 'b' && p.filesDone === 1) controller.abort()
        },
      }),
    )
    expect(error.code).toBe('CLOSED')
    expect(fs.readdirSync(out)).toEqual([])
  })
})

import path from 'node:path'
import { createCollector, createMemoryEventStore, type EventStore, type Projection } from '@eskit/core'
import { eventually } from '@eskit/test-kit'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { passProjection, tempDir } from '../test/helpers.js'
import { sharedStore } from './shared-store.js'

type Db = Database.Database

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

/** Counts holders: a second projection with its own table, to check isolation. */
const holderCounts: Projection<Db> = {
  name: 'holders.count',
  version: '1',
  eventTypes: ['Issued'],
  setup(db) {
    db.exec('CREATE TABLE holder_counts (holder TEXT PRIMARY KEY, passes INTEGER NOT NULL)')
  },
  apply(events, db) {
    const upsert = db.prepare(
      `INSERT INTO holder_counts (holder, passes) VALUES (?, 1)
       ON CONFLICT (holder) DO UPDATE SET passes = passes + 1`,
    )
    for (const e of events) upsert.run((e.data as { holder: string }).holder)
  },
}

async function appendPasses(events: EventStore, count: number, scans: number): Promise<number> {
  let head = 0
  for (let i = 0; i < count; i++) {
    head = (
      await events.append(`pass-${i}`, [
        { type: 'Issued', data: { id: `p${i}`, holder: `h${i % 5}`, at: i } },
      ])
    ).position
  }
  for (let s = 0; s < scans; s++) {
    for (let i = 0; i < count; i++) {
      head = (await events.append(`pass-${i}`, [{ type: 'Scanned', data: { id: `p${i}`, at: 1000 + s } }]))
        .position
    }
  }
  return head
}

it('runs projections through a collector, resumes without replay, and rebuilds one without touching the other', async () => {
  const file = path.join(dir, 'app.db')
  const events = createMemoryEventStore()
  const head = await appendPasses(events, 40, 3)

  const first = createCollector({ events, store: sharedStore({ path: file }), batchSize: 25 })
  first.add(passProjection('passes.view')).add(holderCounts)
  await first.start()
  await first.waitFor(head, { timeoutMs: 10_000 })
  const reader = first.reader<Db>('passes.view')
  expect(reader.prepare('SELECT sum(scans) AS n FROM passes').get()).toEqual({ n: 120 })
  expect(
    first.reader<Db>('holders.count').prepare('SELECT sum(passes) AS n FROM holder_counts').get(),
  ).toEqual({
    n: 40,
  })
  await first.stop()

  // A restart resumes from the checkpoints: the log is not read from the start again.
  const reads: number[] = []
  const spied: EventStore = {
    ...events,
    id: events.id,
    append: events.append.bind(events),
    readStream: events.readStream.bind(events),
    head: events.head.bind(events),
    onAppend: events.onAppend.bind(events),
    close: events.close.bind(events),
    async readAll(options) {
      const batch = await events.readAll(options)
      reads.push(...batch.map((e) => e.position))
      return batch
    },
  }
  const second = createCollector({ events: spied, store: sharedStore({ path: file }), batchSize: 25 })
  second.add(passProjection('passes.view')).add(holderCounts)
  await second.start()
  await second.waitFor(head, { timeoutMs: 10_000 })
  expect(reads).toEqual([])

  const countsBefore = second
    .reader<Db>('holders.count')
    .prepare('SELECT * FROM holder_counts ORDER BY 1')
    .all()
  const countsState = second.status().find((s) => s.name === 'holders.count')?.position
  await second.rebuild('passes.view')
  await second.waitFor(head, { timeoutMs: 10_000 })
  // Only the rebuilt projection read the log again, and the other kept its rows and checkpoint.
  expect(reads.length).toBe(head)
  expect(second.reader<Db>('holders.count').prepare('SELECT * FROM holder_counts ORDER BY 1').all()).toEqual(
    countsBefore,
  )
  expect(second.status().find((s) => s.name === 'holders.count')?.position).toBe(countsState)
  expect(second.reader<Db>('passes.view').prepare('SELECT sum(scans) AS n FROM passes').get()).toEqual({
    n: 120,
  })
  await second.stop()

  const check = new Database(file, { readonly: true })
  expect(check.prepare('SELECT name, position FROM _eskit_projections ORDER BY name').all()).toEqual([
    { name: 'holders.count', position: head },
    { name: 'passes.view', position: head },
  ])
  check.close()
})

it('a projection table dropped underneath a running collector rebuilds that projection only', async () => {
  const file = path.join(dir, 'app.db')
  const events = createMemoryEventStore()
  const head = await appendPasses(events, 30, 2)
  const collector = createCollector({
    events,
    store: sharedStore({ path: file }),
    batchSize: 25,
    pollIntervalMs: 20,
  })
  collector.add(passProjection('passes.view')).add(holderCounts)
  const rebuilt: string[] = []
  collector.on('rebuilt', (info) => rebuilt.push(info.name))
  await collector.start()
  await collector.waitFor(head, { timeoutMs: 10_000 })
  const passesBefore = collector.reader<Db>('passes.view').prepare('SELECT * FROM passes ORDER BY id').all()
  const passesPosition = collector.status().find((s) => s.name === 'passes.view')?.position

  rebuilt.length = 0 // the first builds count as rebuilds too
  // Someone drops the table with their own connection, as one deletes a projection file.
  const other = new Database(file)
  other.exec('DROP TABLE holder_counts')
  other.close()

  await eventually(() => rebuilt.includes('holders.count'), { what: 'the rebuild', timeoutMs: 10_000 })
  await collector.waitFor(head, { timeoutMs: 10_000 })
  expect(rebuilt).toEqual(['holders.count'])
  expect(
    collector.reader<Db>('holders.count').prepare('SELECT sum(passes) AS n FROM holder_counts').get(),
  ).toEqual({
    n: 30,
  })
  expect(collector.reader<Db>('passes.view').prepare('SELECT * FROM passes ORDER BY id').all()).toEqual(
    passesBefore,
  )
  expect(collector.status().find((s) => s.name === 'passes.view')?.position).toBe(passesPosition)
  await collector.stop()
})

it("a full disk inside apply is a store failure: with onError 'skip' nothing is parked, the event applies once there is room", async () => {
  const database = new Database(path.join(dir, 'app.db'))
  const events = createMemoryEventStore()
  const blobs: Projection<Db> = {
    name: 'blobs',
    version: '1',
    setup(db) {
      db.exec('CREATE TABLE blobs (position INTEGER PRIMARY KEY, size INTEGER NOT NULL, body BLOB NOT NULL)')
    },
    apply(batch, db) {
      const insert = db.prepare('INSERT INTO blobs (position, size, body) VALUES (?, ?, ?)')
      for (const e of batch) {
        const size = (e.data as { size: number }).size
        insert.run(e.position, size, Buffer.alloc(size))
      }
    },
  }
  const collector = createCollector({
    events,
    store: sharedStore({ database }),
    onError: 'skip',
    pollIntervalMs: 20,
    retry: { initialDelayMs: 5, maxDelayMs: 20 },
  })
  collector.add(blobs)
  const errors: Array<{ code: unknown; policy: string }> = []
  collector.on('error', (info) =>
    errors.push({ code: (info.error as { code?: unknown }).code, policy: info.policy }),
  )
  await collector.start()
  await collector.waitFor((await events.append('s', [{ type: 'Blob', data: { size: 10 } }])).position)
  // room for small writes (a parked row, the checkpoint), not for the next event's blob
  database.pragma(`max_page_count = ${(database.pragma('page_count', { simple: true }) as number) + 2}`)
  const { position } = await events.append('s', [{ type: 'Blob', data: { size: 100_000 } }])
  // two attempts, or the event was parked and the checkpoint moved past it
  await eventually(() => errors.length >= 2 || collector.status()[0]?.position !== 1, {
    what: 'two attempts',
    timeoutMs: 10_000,
  })
  expect(errors.slice(0, 2)).toEqual([
    { code: 'DISK_FULL', policy: 'retry' },
    { code: 'DISK_FULL', policy: 'retry' },
  ])
  expect(await collector.parked('blobs')).toEqual([])
  expect(collector.status()[0]).toMatchObject({ state: 'failed', position: 1 })
  database.pragma('max_page_count = 1073741823')
  await collector.waitFor(position, { timeoutMs: 10_000 })
  expect(database.prepare('SELECT position, size FROM blobs ORDER BY position').all()).toEqual([
    { position: 1, size: 10 },
    { position: 2, size: 100_000 },
  ])
  expect(await collector.parked('blobs')).toEqual([])
  await collector.stop()
  database.close()
})

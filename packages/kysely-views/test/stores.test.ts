import fs from 'node:fs'
import path from 'node:path'
import {
  type Collector,
  createCollector,
  createMemoryEventStore,
  type EventStore,
  type NewEvent,
  type ProjectionStore,
  type StoredEvent,
} from '@eskit/core'
import { sharedStore } from '@eskit/shared-store'
import { sqliteStore } from '@eskit/sqlite-store'
import Database from 'better-sqlite3'
import { type Kysely, sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createReader, defineStatements, defineView, type Params } from '../src/index.js'
import {
  expectedPasses,
  type PassEvent,
  type PassTables,
  passMigrations,
  passStatements,
  statementPassView,
  tempDir,
} from './fixtures.js'

interface HolderTables {
  holder_counts: { holder: string; passes: number; last_pass: string }
}

const holderStatements = defineStatements((db: Kysely<HolderTables>) => ({
  get: (p: Params<{ holder: string }>) =>
    db.selectFrom('holder_counts').selectAll().where('holder', '=', p.holder),
}))

/** Per-event style with read-modify-write: count passes per holder. */
const holderView = defineView<HolderTables, PassEvent>({
  name: 'holders.count',
  version: '1',
  migrations: [
    (db) =>
      db.schema
        .createTable('holder_counts')
        .addColumn('holder', 'text', (c) => c.primaryKey())
        .addColumn('passes', 'integer', (c) => c.notNull())
        .addColumn('last_pass', 'text', (c) => c.notNull()),
  ],
  on: {
    PassIssued: (e, db, tx) => {
      const row = tx.first(holderStatements.get({ holder: e.data.holder }))
      if (row === undefined) {
        return db
          .insertInto('holder_counts')
          .values({ holder: e.data.holder, passes: 1, last_pass: e.data.passId })
      }
      return db
        .updateTable('holder_counts')
        .set({ passes: row.passes + 1, last_pass: e.data.passId })
        .where('holder', '=', e.data.holder)
    },
  },
})

interface StoreCase {
  label: string
  make: (dir: string) => ProjectionStore<any>
  buildBeside: boolean
}

const stores: StoreCase[] = [
  {
    label: 'sqliteStore',
    make: (dir) => sqliteStore({ dir: path.join(dir, 'projections') }),
    buildBeside: true,
  },
  {
    label: 'sharedStore',
    make: (dir) => sharedStore({ path: path.join(dir, 'shared.db') }),
    buildBeside: false,
  },
]

function passEvent(index: number, passes: number): { streamId: string; event: PassEvent } {
  const group = Math.floor(index / 3)
  const passId = `p${group % passes}`
  const event: PassEvent =
    index % 3 === 0
      ? { type: 'PassIssued', data: { passId, holder: `h${group % 7}` } }
      : { type: 'PassScanned', data: { passId, at: `t${index}` } }
  return { streamId: `pass-${passId}`, event }
}

async function appendPasses(events: EventStore, from: number, to: number, passes = 40): Promise<number> {
  let head = 0
  for (let i = from; i < to; i++) {
    const { streamId, event } = passEvent(i, passes)
    head = (await events.append(streamId, [event as NewEvent])).position
  }
  return head
}

async function allEvents(events: EventStore): Promise<StoredEvent[]> {
  return events.readAll({ after: 0, limit: 1_000_000 })
}

function expectedHolders(events: readonly StoredEvent[]): HolderTables['holder_counts'][] {
  const rows = new Map<string, HolderTables['holder_counts']>()
  for (const event of events) {
    if (event.type !== 'PassIssued') continue
    const { holder, passId } = event.data as { holder: string; passId: string }
    const row = rows.get(holder)
    rows.set(holder, { holder, passes: (row?.passes ?? 0) + 1, last_pass: passId })
  }
  return [...rows.values()].sort((a, b) => (a.holder < b.holder ? -1 : 1))
}

// Temp dir and collectors per test, stopped and removed afterwards.
function useCollectors(make: (dir: string) => ProjectionStore<any>) {
  let dir: string
  let cleanup: () => void
  const running: Collector[] = []

  beforeEach(() => {
    ;({ dir, cleanup } = tempDir())
  })
  afterEach(async () => {
    for (const collector of running.splice(0)) await collector.stop()
    cleanup()
  })

  return {
    dir: () => dir,
    collect(events: EventStore, options: { batchSize?: number; onError?: 'retry' | 'skip' | 'stop' } = {}) {
      const collector = createCollector({
        events,
        store: make(dir),
        batchSize: options.batchSize ?? 100,
        ...options,
      })
      running.push(collector)
      return collector
    },
    async stop(collector: Collector) {
      running.splice(running.indexOf(collector), 1)
      await collector.stop()
    },
  }
}

describe.each(stores)('views on $label', ({ make }) => {
  const { collect, stop, dir: tempDirOf } = useCollectors(make)

  test('builds views of both styles, follows live appends, serves typed readers', async () => {
    const events = createMemoryEventStore()
    const head = await appendPasses(events, 0, 600)
    const passView = statementPassView('passes.view')
    const collector = collect(events).add(passView).add(holderView)
    await collector.start()
    await collector.waitFor(head, { timeoutMs: 10_000 })

    const passes = createReader(collector, passView)
    const holders = createReader(collector, holderView)
    const log = await allEvents(events)
    expect(await passes.selectFrom('passes').selectAll().orderBy('id').execute()).toEqual(expectedPasses(log))
    expect(await holders.selectFrom('holder_counts').selectAll().orderBy('holder').execute()).toEqual(
      expectedHolders(log),
    )
    expect(collector.status().map((s) => [s.name, s.version, s.position])).toEqual([
      ['passes.view', passView.version, head],
      ['holders.count', holderView.version, head],
    ])

    const next = await appendPasses(events, 600, 660, 50)
    await collector.waitFor(next, { timeoutMs: 10_000 })
    const grown = await allEvents(events)
    expect(await passes.selectFrom('passes').selectAll().orderBy('id').execute()).toEqual(
      expectedPasses(grown),
    )
    const p1 = await passes
      .selectFrom('passes')
      .select(['holder', 'scans'])
      .where('id', '=', 'p1')
      .executeTakeFirst()
    const expected = expectedPasses(grown).find((row) => row.id === 'p1')
    expect(p1).toEqual({ holder: expected?.holder, scans: expected?.scans })
    await expect(passes.deleteFrom('passes').execute()).rejects.toMatchObject({ code: 'READ_ONLY' })

    // an explicit rebuild: the reader keeps answering, from whatever data is live after it
    await collector.rebuild('passes.view')
    await collector.waitFor(next, { timeoutMs: 10_000 })
    expect(await passes.selectFrom('passes').selectAll().orderBy('id').execute()).toEqual(
      expectedPasses(grown),
    )
    expect(
      await passes
        .selectFrom('passes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst(),
    ).toEqual({
      n: expectedPasses(grown).length,
    })
  })

  test('a failing query rolls its batch back and reports view, event, position and SQL; others go on', async () => {
    const { insert } = defineStatements((db: Kysely<PassTables>) => ({
      insert: (p: Params<{ id: string; holder: string }>) =>
        db.insertInto('passes').values({ id: p.id, holder: p.holder, scans: 0 }),
    }))
    // a plain insert: the second PassIssued of a pass violates the primary key
    const strict = defineView<PassTables, PassEvent>({
      name: 'passes.strict',
      version: '1',
      migrations: passMigrations,
      on: {
        PassIssued: (e) => insert({ id: e.data.passId, holder: e.data.holder }),
        PassScanned: (e) => passStatements.scan({ id: e.data.passId, at: e.data.at }),
      },
    })
    const events = createMemoryEventStore()
    // 10 passes: event 31 re-issues p0 and fails
    const head = await appendPasses(events, 0, 45, 10)
    const collector = collect(events, { batchSize: 8, onError: 'stop' }).add(strict).add(holderView)
    await collector.start()
    await collector.waitFor(head, { projections: ['holders.count'], timeoutMs: 10_000 })
    await expect(
      collector.waitFor(head, { projections: ['passes.strict'], timeoutMs: 5_000 }),
    ).rejects.toMatchObject({
      code: 'FAILED',
    })

    const status = collector.status().find((s) => s.name === 'passes.strict')
    expect(status?.state).toBe('failed')
    expect(status?.error?.position).toBe(31)
    // the collector may narrow the failing batch down, but nothing from the failed event on is kept
    const position = status?.position ?? -1
    expect(position).toBeGreaterThanOrEqual(24)
    expect(position).toBeLessThan(31)
    expect(status?.error?.message).toContain('view "passes.strict" failed to apply PassIssued at position 31')
    expect(status?.error?.message).toContain('UNIQUE constraint failed: passes.id')
    expect(status?.error?.message).toContain(
      'SQL: insert into "passes" ("id", "holder", "scans") values (?, ?, ?)',
    )

    // the rows are exactly those of the committed events
    const committed = (await allEvents(events)).filter((e) => e.position <= position)
    const reader = createReader(collector, strict)
    expect(await reader.selectFrom('passes').selectAll().orderBy('id').execute()).toEqual(
      expectedPasses(committed),
    )
    expect(collector.status().find((s) => s.name === 'holders.count')?.position).toBe(head)
  })

  test('a failing migration leaves no half-created schema and fails only that view', async () => {
    const broken = defineView<PassTables, PassEvent>({
      name: 'passes.broken',
      version: '1',
      migrations: [...passMigrations, () => sql`create index passes_by_nothing on passes (no_such_column)`],
      on: { PassIssued: (e) => passStatements.issue({ id: e.data.passId, holder: e.data.holder }) },
    })
    const events = createMemoryEventStore()
    const head = await appendPasses(events, 0, 30)
    const collector = collect(events, { onError: 'stop' }).add(broken).add(holderView)
    await collector.start()
    await collector.waitFor(head, { projections: ['holders.count'], timeoutMs: 10_000 })
    await expect(
      collector.waitFor(head, { projections: ['passes.broken'], timeoutMs: 5_000 }),
    ).rejects.toMatchObject({
      code: 'FAILED',
    })
    const status = collector.status().find((s) => s.name === 'passes.broken')
    expect(status?.state).toBe('failed')
    expect(status?.error?.message).toContain('view "passes.broken": migration 2 failed')
    expect(status?.error?.message).toContain('no_such_column')
    await stop(collector)

    // no database file the store wrote has the first migration's table
    const dir = tempDirOf()
    const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.db'))
    expect(files.length).toBeGreaterThan(0)
    for (const file of files) {
      const db = new Database(path.join(dir, file), { readonly: true })
      const tables = db
        .prepare("select name from sqlite_master where name in ('passes', 'passes_by_nothing')")
        .all()
      db.close()
      expect(tables).toEqual([])
    }
  })

  test('a schema change rebuilds the view without a version bump, and the reader follows it', async () => {
    const events = createMemoryEventStore()
    const head = await appendPasses(events, 0, 300)
    const v1 = statementPassView('passes.view')
    const first = collect(events)
    first.add(v1)
    await first.start()
    await first.waitFor(head, { timeoutMs: 10_000 })
    await stop(first)

    const v2 = defineView<PassTables, PassEvent>({
      name: 'passes.view',
      version: v1.baseVersion,
      migrations: [
        ...passMigrations,
        (db) => db.schema.createIndex('passes_by_holder').on('passes').column('holder'),
      ],
      on: {
        PassIssued: (e) => passStatements.issue({ id: e.data.passId, holder: e.data.holder.toUpperCase() }),
        PassScanned: (e) => passStatements.scan({ id: e.data.passId, at: e.data.at }),
      },
    })
    expect(v2.version).not.toBe(v1.version)
    const second = collect(events)
    second.add(v2)
    const rebuilt = new Promise((resolve) => second.on('rebuilt', resolve))
    await second.start()
    await rebuilt
    await second.waitFor(head, { timeoutMs: 10_000 })

    const reader = createReader(second, v2)
    const log = await allEvents(events)
    const upper = expectedPasses(log).map((row) => ({ ...row, holder: row.holder.toUpperCase() }))
    expect(await reader.selectFrom('passes').selectAll().orderBy('id').execute()).toEqual(upper)
    const index = await sql<{
      name: string
    }>`select name from sqlite_master where type = 'index' and name = 'passes_by_holder'`.execute(reader)
    expect(index.rows).toEqual([{ name: 'passes_by_holder' }])
    expect(second.status()[0]?.version).toBe(v2.version)
  })
})

describe.each(stores.filter((store) => store.buildBeside))(
  'readers during a rebuild on $label',
  ({ make }) => {
    const { collect, stop } = useCollectors(make)

    test('while a rebuild runs the reader answers from the old data, then from the new', async () => {
      const events = createMemoryEventStore()
      const head = await appendPasses(events, 0, 3000)
      const v1 = statementPassView('passes.view')
      const first = collect(events, { batchSize: 50 })
      first.add(v1)
      await first.start()
      await first.waitFor(head, { timeoutMs: 20_000 })
      await stop(first)

      const v2 = defineView<PassTables, PassEvent>({
        name: 'passes.view',
        version: '2',
        migrations: passMigrations,
        on: {
          PassIssued: (e) => passStatements.issue({ id: e.data.passId, holder: 'v2' }),
          PassScanned: (e) => passStatements.scan({ id: e.data.passId, at: e.data.at }),
        },
      })
      const second = collect(events, { batchSize: 50 })
      second.add(v2)
      const reader = createReader(second, v2)
      const during: Promise<string[]>[] = []
      second.on('progress', (info) => {
        if (info.state === 'rebuilding' && info.position < head / 2 && during.length < 5) {
          during.push(
            reader
              .selectFrom('passes')
              .select('holder')
              .distinct()
              .execute()
              .then((rows) => rows.map((row) => row.holder)),
          )
        }
      })
      const rebuilt = new Promise((resolve) => second.on('rebuilt', resolve))
      await second.start()
      // served at once, from the old file
      expect(
        await reader
          .selectFrom('passes')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirst(),
      ).toEqual({
        n: 40,
      })
      await rebuilt
      expect(during.length).toBeGreaterThan(0)
      for (const holders of await Promise.all(during)) expect(holders).not.toContain('v2')
      expect(await reader.selectFrom('passes').select('holder').distinct().execute()).toEqual([
        { holder: 'v2' },
      ])
    })
  },
)

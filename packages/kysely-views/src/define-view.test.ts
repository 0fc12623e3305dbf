import { EskitError, type StoredEvent } from '@eskit/core'
import type Database from 'better-sqlite3'
import { type Kysely, sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  expectedPasses,
  type PassEvent,
  type PassTables,
  passMigrations,
  passRows,
  passStatements,
  perEventPassView,
  statementPassView,
  stored,
  tableNames,
  tempDatabase,
  workload,
} from '../test/fixtures.js'
import { defineStatements, type Params } from './define-statements.js'
import { defineView } from './define-view.js'
import type { ViewTransaction } from './view-transaction.js'

let db: Database.Database
let cleanup: () => void

beforeEach(() => {
  ;({ db, cleanup } = tempDatabase())
})
afterEach(() => cleanup())

function applyInBatches(
  view: ReturnType<typeof perEventPassView>,
  events: readonly StoredEvent[],
  size = 100,
) {
  db.transaction(() => view.setup(db))()
  for (let i = 0; i < events.length; i += size) {
    db.transaction(() => view.apply(events.slice(i, i + size), db))()
  }
}

function caught(fn: () => unknown): EskitError {
  try {
    fn()
  } catch (error) {
    if (error instanceof EskitError) return error
    throw error
  }
  throw new Error('expected an EskitError')
}

describe('defineView as a projection', () => {
  test('derives eventTypes from the handlers and keeps name and base version', () => {
    const view = perEventPassView()
    expect(view.name).toBe('passes.per_event')
    expect([...view.eventTypes].sort()).toEqual(['PassIssued', 'PassScanned'])
    expect(view.baseVersion).toBe('1')
    expect(view.version).toBe(`1+${view.schemaFingerprint}`)
    expect(view.schema).toEqual([
      'create table "passes" ("id" text primary key, "holder" text not null, "scans" integer default 0 not null, "last_at" text)',
    ])
  })

  test('the version changes with the schema even when the explicit version does not', () => {
    const base = { name: 'v', version: '1', on: {} }
    const a = defineView<PassTables, PassEvent>({ ...base, migrations: passMigrations })
    const same = defineView<PassTables, PassEvent>({ ...base, migrations: passMigrations })
    const changed = defineView<PassTables, PassEvent>({
      ...base,
      migrations: [
        ...passMigrations,
        (k) => k.schema.createIndex('passes_holder').on('passes').column('holder'),
      ],
    })
    const bumped = defineView<PassTables, PassEvent>({ ...base, version: '2', migrations: passMigrations })
    expect(same.version).toBe(a.version)
    expect(changed.version).not.toBe(a.version)
    expect(changed.baseVersion).toBe(a.baseVersion)
    expect(bumped.version).not.toBe(a.version)
    expect(bumped.schemaFingerprint).toBe(a.schemaFingerprint)
  })

  test('validates name, version, migrations and handlers before anything runs', () => {
    const on = {}
    expect(caught(() => defineView({ name: '../x', version: '1', migrations: [], on })).code).toBe(
      'INVALID_NAME',
    )
    expect(caught(() => defineView({ name: 'x', version: '', migrations: [], on })).code).toBe(
      'INVALID_ARGUMENT',
    )
    const badMigration = caught(() =>
      defineView({ name: 'x', version: '1', migrations: [() => 42 as never], on }),
    )
    expect(badMigration.code).toBe('INVALID_ARGUMENT')
    expect(badMigration.message).toContain('migration 1')
    const badHandler = caught(() =>
      defineView<PassTables, PassEvent>({
        name: 'x',
        version: '1',
        migrations: [],
        on: { PassIssued: 'no' as never },
      }),
    )
    expect(badHandler.message).toContain('PassIssued')
  })
})

describe('setup', () => {
  test('creates the schema', () => {
    db.transaction(() => perEventPassView().setup(db))()
    expect(tableNames(db)).toEqual(['passes'])
  })

  test('a failing migration leaves no half-created schema, inside or outside a transaction', () => {
    const view = defineView<PassTables, PassEvent>({
      name: 'broken',
      version: '1',
      migrations: [...passMigrations, () => sql`create table passes (id text)`],
      on: {},
    })
    const outside = caught(() => view.setup(db))
    expect(outside.code).toBe('PROJECTION_FAILED')
    expect(outside.message).toContain('view "broken": migration 2 failed')
    expect(outside.message).toContain('create table passes (id text)')
    expect(outside.details.sql).toBe('create table passes (id text)')
    expect(tableNames(db)).toEqual([])

    db.exec('create table keep (x)')
    const inside = caught(() => db.transaction(() => view.setup(db))())
    expect(inside.code).toBe('PROJECTION_FAILED')
    expect(tableNames(db)).toEqual(['keep'])
  })

  test('runs migrations in order, with several queries per migration and raw SQL', () => {
    const view = defineView<PassTables, PassEvent>({
      name: 'multi',
      version: '1',
      migrations: [
        ...passMigrations,
        (k) => [
          k.schema.createIndex('passes_holder').on('passes').column('holder'),
          sql`create view pass_count as select count(*) as n from passes`,
        ],
      ],
      on: {},
    })
    view.setup(db)
    const objects = db
      .prepare("select type, name from sqlite_master where name not like 'sqlite_%' order by name")
      .all()
    expect(objects).toEqual([
      { type: 'view', name: 'pass_count' },
      { type: 'table', name: 'passes' },
      { type: 'index', name: 'passes_holder' },
    ])
  })
})

describe('apply', () => {
  const events = workload(3000, 70)

  test('per-event style builds the expected rows', () => {
    applyInBatches(perEventPassView(), events)
    expect(passRows(db)).toEqual(expectedPasses(events))
  })

  test('statement style builds the same rows', () => {
    applyInBatches(statementPassView(), events, 250)
    const rows = passRows(db)
    expect(rows).toHaveLength(70)
    expect(rows).toEqual(expectedPasses(events))
  })

  test('skips events without a handler and empty batches', () => {
    const view = statementPassView()
    view.setup(db)
    view.apply([], db)
    view.apply(
      [
        stored({ type: 'PassIssued', data: { passId: 'a', holder: 'Ada' } }),
        stored({ type: 'PassRevoked', data: { passId: 'a' } }),
        { ...stored({ type: 'PassRevoked', data: { passId: 'a' } }), type: 'constructor' },
      ],
      db,
    )
    expect(passRows(db)).toEqual([{ id: 'a', holder: 'Ada', scans: 0, last_at: null }])
  })

  test('runs several returned queries in order, and tx writes before them', () => {
    const view = defineView<PassTables, PassEvent>({
      name: 'ordered',
      version: '1',
      migrations: passMigrations,
      on: {
        PassIssued: (e, k, tx) => {
          tx.run(k.insertInto('passes').values({ id: e.data.passId, holder: 'first', scans: 0 }))
          return [
            k.updateTable('passes').set({ holder: 'second' }).where('id', '=', e.data.passId),
            passStatements.scan({ id: e.data.passId, at: 'then' }),
            k.updateTable('passes').set({ holder: e.data.holder }).where('holder', '=', 'second'),
          ]
        },
      },
    })
    view.setup(db)
    view.apply([stored({ type: 'PassIssued', data: { passId: 'a', holder: 'Ada' } })], db)
    expect(passRows(db)).toEqual([{ id: 'a', holder: 'Ada', scans: 1, last_at: 'then' }])
  })

  test('read-modify-write sees the batch’s own earlier writes', () => {
    interface Counter {
      counts: { holder: string; passes: number; ids: string }
    }
    const counterStatements = defineStatements((k: Kysely<Counter>) => ({
      get: (p: Params<{ holder: string }>) =>
        k.selectFrom('counts').selectAll().where('holder', '=', p.holder),
      put: (p: Params<{ holder: string; passes: number; ids: string }>) =>
        k
          .insertInto('counts')
          .values({ holder: p.holder, passes: p.passes, ids: p.ids })
          .onConflict((oc) => oc.column('holder').doUpdateSet({ passes: p.passes, ids: p.ids })),
    }))
    const view = defineView<Counter, PassEvent>({
      name: 'counter',
      version: '1',
      migrations: [
        (k) =>
          k.schema
            .createTable('counts')
            .addColumn('holder', 'text', (c) => c.primaryKey())
            .addColumn('passes', 'integer', (c) => c.notNull())
            .addColumn('ids', 'text', (c) => c.notNull()),
      ],
      on: {
        PassIssued: (e, k, tx) => {
          // one read through a defined statement, one through a per-event query
          const row = tx.first(counterStatements.get({ holder: e.data.holder }))
          const again = tx.all(k.selectFrom('counts').select(['passes']).where('holder', '=', e.data.holder))
          expect(again.length).toBe(row ? 1 : 0)
          const ids = row ? `${row.ids},${e.data.passId}` : e.data.passId
          return counterStatements.put({ holder: e.data.holder, passes: (row?.passes ?? 0) + 1, ids })
        },
      },
    })
    view.setup(db)
    const batch = ['a', 'b', 'c', 'd'].map((passId, i) =>
      stored({ type: 'PassIssued', data: { passId, holder: i % 2 === 0 ? 'Ada' : 'Bob' } }),
    )
    db.transaction(() => view.apply(batch, db))()
    expect(db.prepare('select * from counts order by holder').all()).toEqual([
      { holder: 'Ada', passes: 2, ids: 'a,c' },
      { holder: 'Bob', passes: 2, ids: 'b,d' },
    ])
  })

  test('binds booleans, dates, undefined and objects as SQLite values', () => {
    interface Values {
      vals: { flag: number; at: string; missing: string | null; doc: string }
    }
    const s = defineStatements((k: Kysely<Values>) => ({
      put: (p: Params<{ flag: boolean; at: Date; missing?: string; doc: object }>) =>
        k
          .insertInto('vals')
          .values({ flag: p.flag as never, at: p.at as never, missing: p.missing, doc: p.doc as never }),
    }))
    const view = defineView<Values, PassEvent>({
      name: 'values',
      version: '1',
      migrations: [() => sql`create table vals (flag, at, missing, doc)`],
      on: {
        PassIssued: (e, k) => [
          s.put({ flag: true, at: new Date(Date.UTC(2026, 0, 2)), doc: { tags: [e.data.holder] } }),
          k
            .insertInto('vals')
            .values({ flag: false as never, at: new Date(0) as never, missing: null, doc: '[]' }),
        ],
      },
    })
    view.setup(db)
    view.apply([stored({ type: 'PassIssued', data: { passId: 'a', holder: 'Ada' } })], db)
    expect(db.prepare('select * from vals order by flag desc').all()).toEqual([
      { flag: 1, at: '2026-01-02T00:00:00.000Z', missing: null, doc: '{"tags":["Ada"]}' },
      { flag: 0, at: '1970-01-01T00:00:00.000Z', missing: null, doc: '[]' },
    ])
  })
})

describe('failures', () => {
  const strictView = (style: 'statements' | 'per-event') =>
    defineView<PassTables, PassEvent>({
      name: `strict.${style}`,
      version: '1',
      migrations: passMigrations,
      on: {
        // a plain insert: issuing the same pass twice violates the primary key
        PassIssued: (e, k) =>
          style === 'per-event'
            ? k.insertInto('passes').values({ id: e.data.passId, holder: e.data.holder, scans: 0 })
            : strictInsert({ id: e.data.passId, holder: e.data.holder }),
        PassScanned: (e) => passStatements.scan({ id: e.data.passId, at: e.data.at }),
      },
    })
  const { insert: strictInsert } = defineStatements((k: Kysely<PassTables>) => ({
    insert: (p: Params<{ id: string; holder: string }>) =>
      k.insertInto('passes').values({ id: p.id, holder: p.holder, scans: 0 }),
  }))

  for (const style of ['statements', 'per-event'] as const) {
    test(`a failing query (${style}) names view, event, position and SQL, and rolls the batch back`, () => {
      const view = strictView(style)
      view.setup(db)
      view.apply([stored({ type: 'PassIssued', data: { passId: 'a', holder: 'Ada' } })], db)
      const scan = stored({ type: 'PassScanned', data: { passId: 'a', at: 't1' } })
      const duplicate = stored({ type: 'PassIssued', data: { passId: 'a', holder: 'Eve' } })
      const before = passRows(db)

      for (const run of [
        () => view.apply([scan, duplicate], db),
        () => db.transaction(() => view.apply([scan, duplicate], db))(),
      ]) {
        const error = caught(run)
        expect(error.code).toBe('PROJECTION_FAILED')
        expect(error.message).toContain(
          `view "strict.${style}" failed to apply PassIssued at position ${duplicate.position}`,
        )
        expect(error.message).toContain('stream "pass-a"')
        expect(error.message).toContain('UNIQUE constraint failed: passes.id')
        expect(error.message).toContain(
          'SQL: insert into "passes" ("id", "holder", "scans") values (?, ?, ?)',
        )
        expect(error.details).toMatchObject({
          view: `strict.${style}`,
          eventType: 'PassIssued',
          position: duplicate.position,
          streamId: 'pass-a',
          sqliteCode: 'SQLITE_CONSTRAINT_PRIMARYKEY',
        })
        expect((error.cause as { code?: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY')
        // the scan before the failing event is rolled back too
        expect(passRows(db)).toEqual(before)
        expect(db.inTransaction).toBe(false)
      }
    })
  }

  test('a handler that throws is reported without SQL', () => {
    const view = defineView<PassTables, PassEvent>({
      name: 'throws',
      version: '1',
      migrations: passMigrations,
      on: {
        PassIssued: (e) => {
          if (e.data.holder === 'bad') throw new Error('holder refused')
          return passStatements.issue({ id: e.data.passId, holder: e.data.holder })
        },
      },
    })
    view.setup(db)
    const ok = stored({ type: 'PassIssued', data: { passId: 'a', holder: 'Ada' } })
    const bad = stored({ type: 'PassIssued', data: { passId: 'b', holder: 'bad' } })
    const error = caught(() => view.apply([ok, bad], db))
    expect(error.message).toBe(
      `view "throws" failed to apply PassIssued at position ${bad.position} (stream "pass-b"): holder refused`,
    )
    expect(error.details.sql).toBeUndefined()
    expect(passRows(db)).toEqual([])
  })

  test('an async handler or an executed query is refused: handlers are synchronous', async () => {
    const view = defineView<PassTables, PassEvent>({
      name: 'async',
      version: '1',
      migrations: passMigrations,
      on: {
        PassIssued: ((
          e: StoredEvent<'PassIssued', { passId: string; holder: string }>,
          k: Kysely<PassTables>,
        ) =>
          k
            .insertInto('passes')
            .values({ id: e.data.passId, holder: e.data.holder, scans: 0 })
            .execute()) as never,
        PassScanned: (async () => undefined) as never,
      },
    })
    view.setup(db)
    const executed = caught(() =>
      view.apply([stored({ type: 'PassIssued', data: { passId: 'a', holder: 'Ada' } })], db),
    )
    expect(executed.code).toBe('PROJECTION_FAILED')
    expect(executed.message).toContain('view handlers must be synchronous')
    const asynchronous = caught(() =>
      view.apply([stored({ type: 'PassScanned', data: { passId: 'a', at: 't' } })], db),
    )
    expect(asynchronous.message).toContain('returned a Promise')
    // execute() on the handler's Kysely rejects instead of silently doing nothing
    await expect(defineStatementsDb().selectFrom('passes').selectAll().execute()).rejects.toMatchObject({
      code: 'INVALID_STATE',
    })
    let handlerDb: Kysely<PassTables> | undefined
    const capture = defineView<PassTables, PassEvent>({
      name: 'capture',
      version: '1',
      migrations: passMigrations,
      on: {
        PassIssued: (_e, k) => {
          handlerDb = k
        },
      },
    })
    capture.apply([stored({ type: 'PassIssued', data: { passId: 'a', holder: 'Ada' } })], db)
    await expect(handlerDb?.selectFrom('passes').selectAll().execute()).rejects.toMatchObject({
      code: 'INVALID_STATE',
    })
    await expect(handlerDb?.deleteFrom('passes').executeTakeFirst()).rejects.toMatchObject({
      code: 'INVALID_STATE',
    })
    expect(passRows(db)).toEqual([])
  })

  test('a tx kept past its batch is refused: a write there would miss the transaction', () => {
    let kept: ViewTransaction | undefined
    const view = defineView<PassTables, PassEvent>({
      name: 'keeps-tx',
      version: '1',
      migrations: passMigrations,
      on: {
        PassIssued: (e, _k, tx) => {
          kept = tx
          return passStatements.issue({ id: e.data.passId, holder: e.data.holder })
        },
      },
    })
    view.setup(db)
    view.apply([stored({ type: 'PassIssued', data: { passId: 'a', holder: 'Ada' } })], db)
    const later = kept as ViewTransaction
    expect(() => later.run(passStatements.issue({ id: 'b', holder: 'Bob' }))).toThrowError(
      'tx is only usable inside a view handler',
    )
    expect(() => later.first(passStatements.find({ id: 'a' }))).toThrowError(EskitError)
    expect(passRows(db)).toEqual([{ id: 'a', holder: 'Ada', scans: 0, last_at: null }])
  })

  test('a handler returning something that is not a query fails clearly', () => {
    const view = defineView<PassTables, PassEvent>({
      name: 'odd',
      version: '1',
      migrations: passMigrations,
      on: { PassIssued: () => [42] as never },
    })
    view.setup(db)
    const error = caught(() =>
      view.apply([stored({ type: 'PassIssued', data: { passId: 'a', holder: 'x' } })], db),
    )
    expect(error.message).toContain('returned a number, not a Kysely query')
  })
})

function defineStatementsDb(): Kysely<PassTables> {
  let captured: Kysely<PassTables> | undefined
  defineStatements((k: Kysely<PassTables>) => {
    captured = k
    return {}
  })
  return captured as Kysely<PassTables>
}

describe('module and export (builds in worker threads)', () => {
  const base = { name: 'passes.sourced', version: '1', migrations: [], on: {} }
  test('record where a worker imports the view from', () => {
    const view = defineView({ ...base, module: 'file:///app/views.js', export: 'passView' })
    expect(view.source).toEqual({ module: 'file:///app/views.js', export: 'passView' })
    expect(defineView(base).source).toBeUndefined()
  })
  test('go together', () => {
    for (const partial of [
      { module: 'file:///app/views.js' },
      { export: 'passView' },
      { module: '', export: 'x' },
    ]) {
      let error: unknown
      try {
        defineView({ ...base, ...partial })
      } catch (thrown) {
        error = thrown
      }
      expect(error).toBeInstanceOf(EskitError)
      expect((error as EskitError).code).toBe('INVALID_ARGUMENT')
    }
  })
})

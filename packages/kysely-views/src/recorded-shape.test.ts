import type { StoredEvent } from '@eskit/core'
import type Database from 'better-sqlite3'
import { type Kysely, sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { tempDatabase } from '../test/fixtures.js'
import { compileOnlyDb } from './compile-only-db.js'
import { defineView } from './define-view.js'
import { recordedStep, recordingDb } from './query-recorder.js'
import { compileRecorded } from './recorded-shape.js'
import { cachedSkeletonCount, clearRecordedShapes, type LookupHint, lookupHint } from './shape-cache.js'
import { toSqliteValue } from './sqlite-connection.js'
import type { ViewQuery } from './view-query.js'

interface Tables {
  items: { id: string; n: number; tag: string | null; doc: string | null }
  other: { id: string; n: number; tag: string | null; doc: string | null }
}

type Build = (db: Kysely<Tables>) => ViewQuery

const recorder = recordingDb<Tables>()
// One hint for a whole test, as one handler's: the matchers of earlier structures are tried (and
// must refuse) before each new structure is looked up.
let hint: LookupHint = lookupHint()

/** The SQL and values through the cache, and as Kysely compiles the same query itself. */
function both(build: Build) {
  const step = recordedStep(build(recorder))
  if (step === undefined) throw new Error('not a recording')
  const result = compileRecorded(step, hint)
  const through =
    'compiled' in result
      ? { sql: result.compiled.sql, parameters: [...result.compiled.values], cached: true }
      : {
          ...(result.built as { compile(): { sql: string; parameters: unknown[] } }).compile(),
          cached: false,
        }
  const own = build(compileOnlyDb<Tables>()).compile(compileOnlyDb())
  // The cache hands over values as SQLite binds them.
  return {
    through: { ...through, parameters: through.parameters.map(toSqliteValue) },
    own: { sql: own.sql, parameters: own.parameters.map(toSqliteValue) },
  }
}

/** Compiles `build(i)` for each i: the first learns, the rest must hit and match Kysely. */
function expectSameAsKysely(build: (i: number) => Build, count = 3) {
  const results = []
  for (let i = 0; i < count; i++) {
    const { through, own } = both(build(i))
    expect({ sql: through.sql, parameters: through.parameters }).toEqual(own)
    results.push(through)
  }
  return results
}

beforeEach(() => {
  clearRecordedShapes()
  hint = lookupHint()
})

describe('the recorded-query cache', () => {
  test('a structure seen before is not built again, and its values bind in order', () => {
    const results = expectSameAsKysely(
      (i) => (db) =>
        db
          .updateTable('items')
          .set((eb) => ({ n: eb('n', '+', i + 1), tag: `t${i}` }))
          .where('id', '=', `id-${i}`),
    )
    expect(results.map((r) => r.cached)).toEqual([false, true, true])
    expect(results[2]?.parameters).toEqual([3, 't2', 'id-2'])
    expect(cachedSkeletonCount()).toBe(1)
  })

  test('table names, column names and operators are structure: each gets its own SQL', () => {
    const tables = ['items', 'other'] as const
    const columns = ['n', 'tag'] as const
    const operators = ['=', '<', '>='] as const
    const seen = new Set<string>()
    for (const table of tables) {
      for (const column of columns) {
        for (const op of operators) {
          const [first, second] = expectSameAsKysely(
            (i) => (db) => db.selectFrom(table).selectAll().where(column, op, i),
            2,
          )
          expect(second?.cached).toBe(true)
          expect(first?.sql).toBe(second?.sql)
          seen.add(first?.sql ?? '')
        }
      }
    }
    expect(seen.size).toBe(tables.length * columns.length * operators.length)
  })

  test('literals, raw SQL and dynamic identifiers distinguish entries', () => {
    for (const literal of [1, 2, true]) {
      const [, result] = expectSameAsKysely(
        (i) => (db) =>
          db
            .selectFrom('items')
            .select((eb) => eb.lit(literal).as('x'))
            .where('n', '=', i),
        2,
      )
      expect(result?.cached).toBe(true)
      expect(result?.sql).toBe(`select ${literal} as "x" from "items" where "n" = ?`)
    }
    for (const name of ['n', 'tag']) {
      const [result] = expectSameAsKysely(
        (i) => (db) => db.selectFrom('items').select(db.dynamic.ref(name)).where('id', '=', `x${i}`),
        2,
      )
      expect(result?.sql).toBe(`select "${name}" from "items" where "id" = ?`)
    }
    // A `sql` template inside a recorded query: built with Kysely each time, still right.
    for (const fragment of ['n + 1', 'n * 2']) {
      expectSameAsKysely(
        (i) => (db) =>
          db
            .updateTable('items')
            .set({ n: sql<number>`${sql.raw(fragment)}` })
            .where('id', '=', `x${i}`),
        2,
      )
    }
  })

  test('list lengths, $if branches and optional clauses are structure', () => {
    for (const size of [1, 2, 5]) {
      const results = expectSameAsKysely(
        (i) => (db) =>
          db.deleteFrom('items').where(
            'id',
            'in',
            Array.from({ length: size }, (_, k) => `id-${i}-${k}`),
          ),
      )
      expect(results[1]?.cached).toBe(true)
      expect(results[2]?.parameters).toEqual(Array.from({ length: size }, (_, k) => `id-2-${k}`))
    }
    for (const withTag of [true, false, true]) {
      expectSameAsKysely(
        (i) => (db) =>
          db
            .selectFrom('items')
            .selectAll()
            .where('n', '>', i)
            .$if(withTag, (qb) => qb.where('tag', '=', `tag-${i}`))
            .limit(i + 10),
      )
    }
  })

  test('nested callbacks, subqueries and several values of one kind bind to the right places', () => {
    expectSameAsKysely(
      (i) => (db) =>
        db
          .insertInto('items')
          .values({ id: `id-${i}`, n: i, tag: `tag-${i}`, doc: null })
          .onConflict((oc) =>
            oc
              .column('id')
              .doUpdateSet((eb) => ({ n: eb('items.n', '+', eb.ref('excluded.n')), tag: `u-${i}` })),
          ),
    )
    expectSameAsKysely(
      (i) => (db) =>
        db
          .updateTable('items')
          .set({ n: i })
          .where(
            'id',
            'in',
            db
              .selectFrom('other')
              .select('id')
              .where('tag', '=', `t-${i}`)
              .limit(i + 1),
          )
          .where('tag', '<>', `t-${i}`),
    )
    // The same number as a value and as a literal: only the value is bound.
    const [, second] = expectSameAsKysely(
      (i) => (db) =>
        db
          .selectFrom('items')
          .select((eb) => eb.lit(7).as('seven'))
          .where('n', '=', i === 0 ? 7 : i),
      2,
    )
    expect(second?.sql).toBe('select 7 as "seven" from "items" where "n" = ?')
    expect(second?.parameters).toEqual([1])
  })

  test('a query with very many arguments is built per event rather than learned', () => {
    const results = expectSameAsKysely(
      (i) => (db) =>
        db
          .insertInto('items')
          .values(Array.from({ length: 30 }, (_, k) => ({ id: `id-${i}-${k}`, n: k, tag: null, doc: null }))),
      2,
    )
    expect(results.map((r) => r.cached)).toEqual([false, false])
  })

  test('a recording that is not a query comes back as what Kysely builds', async () => {
    // A method read but not called: Kysely's own function comes back, for the caller to refuse.
    const step = recordedStep(recorder.selectFrom)
    if (step === undefined) throw new Error('not a recording')
    const result = compileRecorded(step)
    expect('built' in result && typeof result.built === 'function').toBe(true)
    // execute() is Kysely's own too: it rejects as the build-only Kysely does, never runs.
    await expect(recorder.deleteFrom('items').execute()).rejects.toMatchObject({ code: 'INVALID_STATE' })
  })

  test('a recording turns into the real builder where Kysely itself takes it', () => {
    const build = (db: Kysely<Tables>) => db.selectFrom('items').select('id').where('n', '=', 3)
    const outer = sql`select count(*) from ${build(recorder)}`.compile(compileOnlyDb())
    const own = sql`select count(*) from ${build(compileOnlyDb())}`.compile(compileOnlyDb())
    expect(outer.sql).toBe('select count(*) from (select "id" from "items" where "n" = ?)')
    expect({ sql: outer.sql, parameters: outer.parameters }).toEqual({
      sql: own.sql,
      parameters: own.parameters,
    })
    expect(`${recorder.selectFrom('items').selectAll()}`).toBe('[object Object]')
  })
})

describe('per-event views through the cache', () => {
  let db: Database.Database
  let cleanup: () => void
  beforeEach(() => {
    ;({ db, cleanup } = tempDatabase())
  })
  afterEach(() => cleanup())

  type Event = {
    type: 'Put'
    data: { id: string; n: number; doc: unknown; at: Date; table: 'items' | 'other' }
  }

  const view = defineView<Tables, Event>({
    name: 'cache.view',
    version: '1',
    migrations: [
      (k) =>
        ['items', 'other'].map((table) =>
          k.schema
            .createTable(table)
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('n', 'integer', (c) => c.notNull())
            .addColumn('tag', 'text')
            .addColumn('doc', 'text'),
        ),
    ],
    on: {
      Put: (e, k) =>
        k
          .insertInto(e.data.table)
          .values({
            id: e.data.id,
            n: e.data.n,
            tag: e.data.at as unknown as string,
            doc: e.data.doc as string,
          })
          .onConflict((oc) =>
            oc.column('id').doUpdateSet((eb) => ({ n: eb(`${e.data.table}.n`, '+', e.data.n) })),
          ),
    },
  })

  test('rows equal what the events say: values, JSON documents, dates and tables per event', () => {
    const events: StoredEvent[] = []
    for (let i = 0; i < 60; i++) {
      const data = {
        id: `id-${i % 20}`,
        n: i,
        doc: i % 3 === 0 ? { i, tags: [`t${i}`] } : [i, i + 1],
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
        table: i % 2 === 0 ? ('items' as const) : ('other' as const),
      }
      events.push({
        type: 'Put',
        data,
        position: i + 1,
        streamId: 's',
        streamVersion: i + 1,
        recordedAt: new Date(0),
      })
    }
    db.transaction(() => view.setup(db))()
    db.transaction(() => view.apply(events, db))()

    const expected = new Map<string, { id: string; n: number; tag: string; doc: string }>()
    for (const { data } of events as StoredEvent<'Put', Event['data']>[]) {
      const key = `${data.table}/${data.id}`
      const before = expected.get(key)
      expected.set(
        key,
        before === undefined
          ? { id: data.id, n: data.n, tag: data.at.toISOString(), doc: JSON.stringify(data.doc) }
          : { ...before, n: before.n + data.n },
      )
    }
    for (const table of ['items', 'other']) {
      const rows = db.prepare(`select id, n, tag, doc from ${table} order by id`).all()
      const want = [...expected.entries()]
        .filter(([key]) => key.startsWith(`${table}/`))
        .map(([, row]) => row)
        .sort((a, b) => a.id.localeCompare(b.id))
      expect(rows).toEqual(want)
    }
  })
})

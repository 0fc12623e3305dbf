import { type Kysely, sql } from 'kysely'
import { beforeEach, describe, expect, test } from 'vitest'
import { compileOnlyDb } from './compile-only-db.js'
import { recordedStep, recordingDb, type Step } from './query-recorder.js'
import { compileRecorded } from './recorded-shape.js'
import { clearRecordedShapes, type LookupHint, lookupHint } from './shape-cache.js'
import { toSqliteValue } from './sqlite-connection.js'
import type { ViewQuery } from './view-query.js'

interface Tables {
  items: { id: string; n: number; tag: string | null; doc: string | null }
  other: { id: string; n: number; tag: string | null; doc: string | null }
}

type Build = (db: Kysely<Tables>) => ViewQuery

const recorder = recordingDb<Tables>()

function stepOf(build: Build): Step {
  const step = recordedStep(build(recorder))
  if (step === undefined) throw new Error('not a recording')
  return step
}

/** What Kysely itself compiles `build` to, with the values as SQLite binds them. */
function kysely(build: Build) {
  const own = build(compileOnlyDb<Tables>()).compile(compileOnlyDb())
  return { sql: own.sql, values: own.parameters.map(toSqliteValue) }
}

/** A hint whose one matcher is `build`'s: learned, then generated on the second query. */
function hintFor(build: Build): LookupHint {
  const hint = lookupHint()
  compileRecorded(stepOf(build), hint)
  compileRecorded(stepOf(build), hint)
  expect(hint.matchers).toHaveLength(1)
  return hint
}

/** The only matcher of `hint` on `build`'s recording. */
function matchOf(hint: LookupHint, build: Build) {
  const [matcher] = hint.matchers
  if (matcher === undefined) throw new Error('no matcher')
  const values = matcher.match(stepOf(build))
  return values === undefined ? undefined : { sql: matcher.sql, values }
}

/** `other` must not pass `base`'s matcher, and must still compile as Kysely compiles it. */
function expectRefused(base: Build, other: Build) {
  const hint = hintFor(base)
  expect(matchOf(hint, other)).toBeUndefined()
  const result = compileRecorded(stepOf(other), hint)
  const through =
    'compiled' in result
      ? { sql: result.compiled.sql, values: [...result.compiled.values] }
      : (() => {
          const own = (result.built as { compile(): { sql: string; parameters: unknown[] } }).compile()
          return { sql: own.sql, values: own.parameters.map(toSqliteValue) }
        })()
  expect(through).toEqual(kysely(other))
}

beforeEach(() => clearRecordedShapes())

describe('a shape matcher', () => {
  test('takes a query of its shape and binds its values as Kysely does', () => {
    const scan =
      (i: number): Build =>
      (db) =>
        db
          .updateTable('items')
          .set((eb) => ({ n: eb('n', '+', i), tag: `t${i}` }))
          .where('id', '=', `id-${i}`)
    const hint = hintFor(scan(1))
    for (const i of [2, 3, 40]) expect(matchOf(hint, scan(i))).toEqual(kysely(scan(i)))
  })

  test('binds JSON documents, dates and booleans the SQLite way', () => {
    const put =
      (i: number): Build =>
      (db) =>
        db.insertInto('items').values({
          id: `id-${i}`,
          n: i,
          tag: new Date(Date.UTC(2026, 0, i)) as unknown as string,
          doc: { i, flags: [i, i + 1] } as unknown as string,
        })
    const hint = hintFor(put(1))
    const matched = matchOf(hint, put(7))
    expect(matched).toEqual(kysely(put(7)))
    expect(matched?.values).toEqual(['id-7', 7, '2026-01-07T00:00:00.000Z', '{"i":7,"flags":[7,8]}'])
  })

  test('names and structural strings of any content are compared as they are', () => {
    const odd = ['we"ird\n\u2028name', "it's", '\\', '\uD800', ['$', '{x}'].join('')]
    const aliased =
      (alias: string, value: string): Build =>
      (db) =>
        db
          .selectFrom('items')
          .select((eb) => eb.ref('id').as(alias))
          .where('tag', '=', value)
    for (const alias of odd) {
      const hint = hintFor(aliased(alias, 'a'))
      expect(matchOf(hint, aliased(alias, odd.join()))).toEqual(kysely(aliased(alias, odd.join())))
      for (const other of odd) if (other !== alias) expect(matchOf(hint, aliased(other, 'a'))).toBeUndefined()
    }
  })

  test('refuses a null where its shape has a value, and the other way round', () => {
    const set =
      (tag: string | null): Build =>
      (db) =>
        db.updateTable('items').set({ tag }).where('id', '=', 'a')
    expectRefused(set('x'), set(null))
    expectRefused(set(null), set('x'))
  })

  test('refuses another length of an `in (...)` list or of a row list', () => {
    const inList =
      (size: number): Build =>
      (db) =>
        db.deleteFrom('items').where(
          'id',
          'in',
          Array.from({ length: size }, (_, k) => `id-${k}`),
        )
    expectRefused(inList(2), inList(3))
    expectRefused(inList(3), inList(2))
    const rows =
      (size: number): Build =>
      (db) =>
        db
          .insertInto('items')
          .values(Array.from({ length: size }, (_, k) => ({ id: `id-${k}`, n: k, tag: null, doc: null })))
    expectRefused(rows(1), rows(2))
  })

  test('refuses other tables, columns, operators and literals', () => {
    const where =
      (table: 'items' | 'other', column: 'n' | 'tag', op: '=' | '<', literal: number): Build =>
      (db) =>
        db
          .selectFrom(table)
          .select((eb) => eb.lit(literal).as('x'))
          .where(column, op, 1)
    const base = where('items', 'n', '=', 1)
    expectRefused(base, where('other', 'n', '=', 1))
    expectRefused(base, where('items', 'tag', '=', 1))
    expectRefused(base, where('items', 'n', '<', 1))
    expectRefused(base, where('items', 'n', '=', 2))
  })

  test('refuses another value type, other keys or key order, and another JSON document layout', () => {
    const byN =
      (value: unknown): Build =>
      (db) =>
        db
          .selectFrom('items')
          .selectAll()
          .where('n', '=', value as number)
    expectRefused(byN(1), byN('1'))
    expectRefused(byN(1), byN(1n))
    expectRefused(byN('2026-01-01'), byN(new Date(0)))
    const set =
      (row: Record<string, unknown>): Build =>
      (db) =>
        db.updateTable('items').set(row).where('id', '=', 'a')
    expectRefused(set({ n: 1, tag: 'a' }), set({ tag: 'a', n: 1 }))
    expectRefused(set({ n: 1 }), set({ n: 1, tag: 'a' }))
    expectRefused(set({ n: 1, tag: 'a' }), set({ n: 1 }))
    const doc =
      (value: unknown): Build =>
      (db) =>
        db
          .updateTable('items')
          .set({ doc: value as string })
          .where('id', '=', 'a')
    expectRefused(doc({ a: 1 }), doc({ b: 1 }))
    expectRefused(doc([1, 2]), doc([1, 2, 3]))
  })

  test('refuses a `$if` branch taken where its shape skipped it', () => {
    const maybe =
      (withTag: boolean): Build =>
      (db) =>
        db
          .selectFrom('items')
          .selectAll()
          .$if(withTag, (qb) => qb.where('tag', '=', 'x'))
    expectRefused(maybe(true), maybe(false))
    expectRefused(maybe(false), maybe(true))
  })

  test("refuses a callback's argument used in another callback's place", () => {
    const correlated =
      (outer: boolean): Build =>
      (db) =>
        db
          .selectFrom('items')
          .selectAll()
          .where((eb) =>
            eb.exists(
              eb
                .selectFrom('other')
                .select('other.id')
                .where((inner) =>
                  (outer ? (eb as unknown as typeof inner) : inner)('other.id', '=', eb.ref('items.id')),
                ),
            ),
          )
    expectRefused(correlated(true), correlated(false))
    expectRefused(correlated(false), correlated(true))
  })

  test('refuses a `sql` template where its shape had a value (the query is then built)', () => {
    const set =
      (raw: boolean): Build =>
      (db) =>
        db
          .updateTable('items')
          .set({ n: raw ? sql<number>`n + 1` : 1 })
          .where('id', '=', 'a')
    expectRefused(set(false), set(true))
  })

  test('keeps working when the cache starts over (it compares values, not interned ids)', () => {
    const scan =
      (i: number): Build =>
      (db) =>
        db.updateTable('items').set({ n: i }).where('id', '=', `id-${i}`)
    const hint = hintFor(scan(1))
    clearRecordedShapes()
    expect(matchOf(hint, scan(5))).toEqual(kysely(scan(5)))
    expect(
      matchOf(hint, (db) => db.updateTable('other').set({ n: 5 }).where('id', '=', 'id-5')),
    ).toBeUndefined()
  })

  test('a hint keeps the matchers of the last few shapes its handler built', () => {
    const hint = lookupHint()
    const byTable =
      (table: 'items' | 'other', i: number): Build =>
      (db) =>
        db.updateTable(table).set({ n: i }).where('id', '=', `id-${i}`)
    for (let i = 0; i < 3; i++) {
      for (const table of ['items', 'other'] as const) {
        const result = compileRecorded(stepOf(byTable(table, i)), hint)
        if ('compiled' in result) expect(result.compiled).toEqual(kysely(byTable(table, i)))
      }
    }
    expect(hint.matchers.map((m) => m.sql).sort()).toEqual([
      'update "items" set "n" = ? where "id" = ?',
      'update "other" set "n" = ? where "id" = ?',
    ])
  })
})

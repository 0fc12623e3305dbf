import type { Kysely } from 'kysely'
import { beforeEach, describe, expect, test } from 'vitest'
import { compileOnlyDb } from './compile-only-db.js'
import { recordedStep, recordingDb } from './query-recorder.js'
import { compileRecorded } from './recorded-shape.js'
import { clearRecordedShapes, lookupHint } from './shape-cache.js'
import { toSqliteValue } from './sqlite-connection.js'
import type { ViewQuery } from './view-query.js'

// Many queries of drawn structures and values, compiled through the cache as one handler's (one
// hint: its matchers are tried on every later query) and by Kysely itself: both must agree on
// the SQL and on every value, whatever came before.

interface Row {
  id: string
  n: number
  tag: string | null
  doc: string | null
}
interface Tables {
  items: Row
  other: Row
}
type Build = (db: Kysely<Tables>) => ViewQuery

/** A small deterministic generator (mulberry32), so a failure can be replayed by its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Every choice reads its own slot of the tape, so a tape with one number changed is a query with
// one choice changed: a near miss of the structure the unchanged tape draws.
const SLOTS = 48

function draw(tape: readonly number[]): Build {
  const at = (slot: number) => tape[slot] as number
  const pick = <T>(slot: number, items: readonly T[]): T => items[Math.floor(at(slot) * items.length)] as T
  const value = (slot: number): unknown =>
    pick(slot, [
      () => `s${Math.floor(at(slot + 1) * 5)}`,
      () => Math.floor(at(slot + 1) * 5),
      () => null,
      () => new Date(Date.UTC(2026, 0, 1 + Math.floor(at(slot + 1) * 3))),
      () => ({ k: Math.floor(at(slot + 1) * 3) }),
      () => [1, 2].slice(0, 1 + Math.floor(at(slot + 1) * 2)),
    ])()
  const table = pick(0, ['items', 'other'] as const)
  const kind = pick(1, ['select', 'update', 'insert', 'delete'] as const)
  const wheres = Array.from({ length: Math.floor(at(2) * 3) }, (_, w) => {
    const slot = 3 + w * 5
    const column = pick(slot, ['id', 'n', 'tag'] as const)
    const op = pick(slot + 1, ['=', '<>', '<', 'in', 'is'] as const)
    const operand =
      op === 'in'
        ? Array.from({ length: 1 + Math.floor(at(slot + 2) * 3) }, (_, k) => `v${k}`)
        : op === 'is'
          ? null
          : value(slot + 2)
    const viaCallback = at(slot + 4) < 0.3
    return { column, op, operand, viaCallback }
  })
  const columns = (['n', 'tag', 'doc'] as const).map((column, c) => ({ column, c }))
  const set = Object.fromEntries(
    columns
      .sort((a, b) => at(18 + a.c) - at(18 + b.c))
      .filter(({ c }) => at(21 + c) < 0.7)
      .map(({ column, c }) => [column, value(24 + c * 2)]),
  )
  const increment = at(30) < 0.4 ? Math.floor(at(31) * 3) : undefined
  const withIf = at(32) < 0.5
  const ifTag = `t${Math.floor(at(33) * 2)}`
  const limit = Math.floor(at(34) * 3)

  type Where = { where(...args: unknown[]): Where }
  const applyWheres = <Q>(query: Q): Q => {
    let q = query as unknown as Where
    for (const w of wheres) {
      q = w.viaCallback
        ? q.where((eb: (...a: unknown[]) => unknown) => eb(w.column, w.op, w.operand))
        : q.where(w.column, w.op, w.operand)
    }
    return q as unknown as Q
  }
  return (db) => {
    switch (kind) {
      case 'select':
        return applyWheres(db.selectFrom(table).selectAll())
          .$if(withIf, (qb) => qb.where('tag', '=', ifTag))
          .limit(limit + 1)
      case 'update': {
        const base = db.updateTable(table)
        const withSet =
          increment === undefined
            ? base.set({ id: 'x', ...set } as never)
            : base.set((eb) => ({ ...set, n: eb('n', '+', increment) }) as never)
        return applyWheres(withSet)
      }
      case 'insert':
        return db
          .insertInto(table)
          .values({ id: `i${limit}`, n: limit, ...set } as never)
          .onConflict((oc) =>
            withIf
              ? oc.column('id').doNothing()
              : oc.column('id').doUpdateSet((eb) => ({ n: eb(`${table}.n`, '+', eb.ref('excluded.n')) })),
          )
      case 'delete':
        return applyWheres(db.deleteFrom(table))
    }
  }
}

const recorder = recordingDb<Tables>()

beforeEach(() => clearRecordedShapes())

describe('recorded queries against Kysely, drawn at random', () => {
  test('every query compiles to Kysely’s SQL and values, through matchers and the general lookup', () => {
    const hint = lookupHint()
    let cached = 0
    let matched = 0
    let refused = 0
    for (let group = 1; group <= 120; group++) {
      const fresh = random(group)
      const base = Array.from({ length: SLOTS }, fresh)
      // The group's structure again and again (a handler's usual run), and between its repeats
      // near misses: the same tape with one number drawn again, so one choice differs (a value's
      // type, a list's length, a key's order, an operator, a branch…).
      for (let k = 0; k < 12; k++) {
        const tape = base.slice()
        // Half of the near misses in the where clauses, where most of the structure is.
        if (k % 2 === 1) tape[k % 4 === 1 ? 2 + Math.floor(fresh() * 16) : Math.floor(fresh() * 35)] = fresh()
        const build = draw(tape)
        const step = recordedStep(build(recorder))
        if (step === undefined) throw new Error('not a recording')
        const before = hint.matchers.slice()
        const result = compileRecorded(step, hint)
        const own = build(compileOnlyDb<Tables>()).compile(compileOnlyDb())
        const expected = { sql: own.sql, values: own.parameters.map(toSqliteValue) }
        const through =
          'compiled' in result
            ? { sql: result.compiled.sql, values: [...result.compiled.values] }
            : (() => {
                const built = (
                  result.built as { compile(): { sql: string; parameters: unknown[] } }
                ).compile()
                return { sql: built.sql, values: built.parameters.map(toSqliteValue) }
              })()
        expect({ group, k, ...through }).toEqual({ group, k, ...expected })
        if ('compiled' in result) cached++
        if (before.some((matcher) => matcher.match(step) !== undefined)) matched++
        else if (before.length > 0) refused++
      }
    }
    // The run must have gone through every path, or it proves little.
    expect(cached).toBeGreaterThan(500)
    expect(matched).toBeGreaterThan(300)
    expect(refused).toBeGreaterThan(100)
  })
})

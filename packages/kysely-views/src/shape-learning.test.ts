import type { Kysely } from 'kysely'
import { describe, expect, test } from 'vitest'
import { recordedStep, recordingDb } from './query-recorder.js'
import { CONTAINER, INSIDE_VALUE, learn, STRUCTURE, VALUE } from './shape-learning.js'

interface Tables {
  items: { id: string; n: number; tag: string | null; doc: string | null }
}

const recorder = recordingDb<Tables>()

function learned(build: (db: Kysely<Tables>) => unknown) {
  const step = recordedStep(build(recorder))
  if (step === undefined) throw new Error('not a recording')
  const result = learn(step)
  if ('built' in result) throw new Error('not a query')
  return result
}

describe('learning a recording', () => {
  test('table and column names and operators are structure; values and rows are not', () => {
    const { kinds, shape } = learned((db) =>
      db
        .updateTable('items')
        .set((eb) => ({ n: eb('n', '+', 2), tag: 'x' }))
        .where('id', '=', 'a'),
    )
    // 'items', {n, tag}, 'n', '+', 2, 'x', 'id', '=', 'a'
    expect([...(kinds ?? [])]).toEqual([
      STRUCTURE,
      CONTAINER,
      STRUCTURE,
      STRUCTURE,
      VALUE,
      VALUE,
      STRUCTURE,
      STRUCTURE,
      VALUE,
    ])
    expect(shape?.sql).toBe('update "items" set "n" = "n" + ?, "tag" = ? where "id" = ?')
    expect([...(shape?.slots ?? [])]).toEqual([4, 5, 8])
  })

  test('a JSON document is one value, its contents inside it', () => {
    const doc = { a: 'x', b: [1, 2] }
    const { kinds, shape } = learned((db) =>
      db
        .updateTable('items')
        .set({ doc: doc as unknown as string })
        .where('id', '=', 'a'),
    )
    // 'items', {doc}, doc, 'x', [1, 2], 1, 2, 'id', '=', 'a'
    expect([...(kinds ?? [])]).toEqual([
      STRUCTURE,
      CONTAINER,
      VALUE,
      INSIDE_VALUE,
      INSIDE_VALUE,
      INSIDE_VALUE,
      INSIDE_VALUE,
      STRUCTURE,
      STRUCTURE,
      VALUE,
    ])
    expect([...(shape?.slots ?? [])]).toEqual([2, 9])
  })

  test('a literal is structure even where the same number is also a value', () => {
    const { kinds, shape } = learned((db) =>
      db
        .selectFrom('items')
        .select((eb) => eb.lit(7).as('seven'))
        .where('n', '=', 7),
    )
    // 'items', 7 (lit), 'seven', 'n', '=', 7
    expect([...(kinds ?? [])]).toEqual([STRUCTURE, STRUCTURE, STRUCTURE, STRUCTURE, STRUCTURE, VALUE])
    expect(shape?.sql).toBe('select 7 as "seven" from "items" where "n" = ?')
  })

  test('a query with very many occurrences is not learned', () => {
    const { kinds, shape } = learned((db) =>
      db
        .insertInto('items')
        .values(Array.from({ length: 30 }, (_, k) => ({ id: `id-${k}`, n: k, tag: null, doc: null }))),
    )
    expect(kinds).toBeUndefined()
    expect(shape).toBeUndefined()
  })

  test('a recording that is not a query comes back built', () => {
    const step = recordedStep(recorder.selectFrom)
    if (step === undefined) throw new Error('not a recording')
    const result = learn(step)
    expect('built' in result && typeof result.built).toBe('function')
  })
})

import type { Kysely } from 'kysely'
import { beforeEach, describe, expect, test } from 'vitest'
import { recordedStep, recordingDb } from './query-recorder.js'
import { namesOf, readForLookup, tokensOf, valuesOf } from './recording-reader.js'
import {
  cachedSkeletonCount,
  clearRecordedShapes,
  findShape,
  findSkeleton,
  lookupHint,
  storeShape,
  storeSkeleton,
} from './shape-cache.js'
import { learn } from './shape-learning.js'

interface Tables {
  items: { id: string; n: number; tag: string | null; doc: string | null }
  other: { id: string; n: number; tag: string | null; doc: string | null }
}

const recorder = recordingDb<Tables>()

const byTable = (table: 'items' | 'other', i: number) => (db: Kysely<Tables>) =>
  db.updateTable(table).set({ n: i }).where('id', '=', `id-${i}`)

/** Reads and learns `build`, stores it as the general path does, and returns the entries. */
function store(build: (db: Kysely<Tables>) => unknown, hint = lookupHint()) {
  const step = recordedStep(build(recorder))
  if (step === undefined) throw new Error('not a recording')
  const reading = readForLookup(step)
  if (reading === undefined) throw new Error('not readable')
  const tokens = tokensOf(reading)
  const names = namesOf(reading)
  const values = valuesOf(reading)
  const learned = learn(step)
  if ('built' in learned || learned.kinds === undefined) throw new Error('not learnable')
  const skeleton = storeSkeleton(tokens, names, learned.kinds, hint)
  storeShape(skeleton, values, learned.shape)
  return { skeleton, hint }
}

function lookup(build: (db: Kysely<Tables>) => unknown, hint?: ReturnType<typeof lookupHint>) {
  const step = recordedStep(build(recorder))
  if (step === undefined) throw new Error('not a recording')
  const reading = readForLookup(step)
  if (reading === undefined) throw new Error('not readable')
  const skeleton = findSkeleton(reading, hint)
  return { skeleton, shape: skeleton && findShape(skeleton, reading.values) }
}

beforeEach(() => clearRecordedShapes())

describe('the shape cache', () => {
  test('one skeleton for one structure, one shape per set of structural occurrences', () => {
    const { skeleton } = store(byTable('items', 1))
    expect(cachedSkeletonCount()).toBe(1)
    const same = lookup(byTable('items', 2))
    expect(same.skeleton).toBe(skeleton)
    expect(same.shape?.shape?.sql).toBe('update "items" set "n" = ? where "id" = ?')
    // Another table: the same skeleton (a string where a string was), no shape for it yet.
    const other = lookup(byTable('other', 2))
    expect(other.skeleton).toBe(skeleton)
    expect(other.shape).toBeUndefined()
    // Another structure: another skeleton, not found.
    expect(
      lookup((db) => db.updateTable('items').set({ tag: null }).where('id', '=', 'a')).skeleton,
    ).toBeUndefined()
  })

  test('a hint finds its skeleton first, and is not used after the cache starts over', () => {
    const { skeleton, hint } = store(byTable('items', 1))
    expect(hint.skeleton).toBe(skeleton)
    expect(lookup(byTable('items', 3), hint).skeleton).toBe(skeleton)
    clearRecordedShapes()
    expect(cachedSkeletonCount()).toBe(0)
    expect(lookup(byTable('items', 3), hint).skeleton).toBeUndefined()
  })

  test('a hint that holds another skeleton does not make a lookup find it', () => {
    const { hint } = store(byTable('items', 1))
    const { skeleton: nullTag } = store((db) =>
      db.updateTable('items').set({ tag: null }).where('id', '=', 'a'),
    )
    const found = lookup((db) => db.updateTable('items').set({ tag: null }).where('id', '=', 'b'), hint)
    expect(found.skeleton).toBe(nullTag)
    expect(hint.skeleton).toBe(nullTag)
  })
})

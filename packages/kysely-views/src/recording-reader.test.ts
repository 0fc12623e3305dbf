import { type Kysely, sql } from 'kysely'
import { describe, expect, test } from 'vitest'
import { recordedStep, recordingDb } from './query-recorder.js'
import { namesOf, readForLearning, readForLookup, tokensOf, valuesOf } from './recording-reader.js'

interface Tables {
  items: { id: string; n: number; tag: string | null; doc: string | null }
}

const recorder = recordingDb<Tables>()

function read(build: (db: Kysely<Tables>) => unknown) {
  const step = recordedStep(build(recorder))
  if (step === undefined) throw new Error('not a recording')
  const reading = readForLookup(step)
  if (reading === undefined) return undefined
  return { tokens: [...tokensOf(reading)], names: namesOf(reading), values: valuesOf(reading) }
}

/** The skeleton of a reading: what must be equal for two recordings to share a cache entry. */
const skeleton = (reading: ReturnType<typeof read>) => ({ tokens: reading?.tokens, names: reading?.names })

describe('reading a recording', () => {
  test('takes every string, number and object argument out as an occurrence, in reading order', () => {
    const reading = read((db) =>
      db
        .updateTable('items')
        .set((eb) => ({ n: eb('n', '+', 2), tag: 'x' }))
        .where('id', '=', 'a'),
    )
    expect(reading?.values).toEqual([
      'items',
      { n: expect.anything(), tag: 'x' },
      'n',
      '+',
      2,
      'x',
      'id',
      '=',
      'a',
    ])
    expect(reading?.names).toEqual(['updateTable', 'set', 'n', 'tag', 'where'])
  })

  test('two recordings of one structure have one skeleton, whatever their values', () => {
    const scan = (i: number) => (db: Kysely<Tables>) =>
      db
        .updateTable('items')
        .set((eb) => ({ n: eb('n', '+', i) }))
        .where('id', '=', `id-${i}`)
    expect(skeleton(read(scan(1)))).toEqual(skeleton(read(scan(2))))
  })

  test('null and a value, list lengths, keys and their order, $if branches make other skeletons', () => {
    const pairs: Array<[(db: Kysely<Tables>) => unknown, (db: Kysely<Tables>) => unknown]> = [
      [(db) => db.updateTable('items').set({ tag: null }), (db) => db.updateTable('items').set({ tag: 'x' })],
      [
        (db) => db.deleteFrom('items').where('id', 'in', ['a', 'b']),
        (db) => db.deleteFrom('items').where('id', 'in', ['a']),
      ],
      [
        (db) => db.updateTable('items').set({ n: 1, tag: 'a' }),
        (db) => db.updateTable('items').set({ tag: 'a', n: 1 }),
      ],
      [
        (db) => db.selectFrom('items').where('n', '=', 1),
        (db) => db.selectFrom('items').where('n', '=', '1' as never),
      ],
      [
        (db) => db.selectFrom('items').$if(true, (qb) => qb.where('n', '=', 1)),
        (db) => db.selectFrom('items').$if(false, (qb) => qb.where('n', '=', 1)),
      ],
      [(db) => db.selectFrom('items').selectAll(), (db) => db.selectFrom('items').select('id')],
    ]
    for (const [a, b] of pairs) expect(skeleton(read(a))).not.toEqual(skeleton(read(b)))
  })

  test('tells which callback a root belongs to', () => {
    const correlated = (outer: boolean) => (db: Kysely<Tables>) =>
      db.selectFrom('items').where((eb) =>
        eb.exists(
          eb
            .selectFrom('items as i2')
            .select('i2.id')
            .where((inner) => (outer ? (eb as unknown as typeof inner) : inner)('i2.n', '=', 1)),
        ),
      )
    expect(skeleton(read(correlated(true)))).not.toEqual(skeleton(read(correlated(false))))
  })

  test('refuses what it cannot describe: a sql template, a callback argument used outside it', () => {
    expect(read((db) => db.updateTable('items').set({ n: sql<number>`n + 1` }))).toBeUndefined()
    let leaked: unknown
    recorder.selectFrom('items').where((eb) => {
      leaked = eb
      return eb('n', '=', 1)
    })
    expect(read((db) => db.selectFrom('items').where(leaked as never, '=', 1 as never))).toBeUndefined()
  })

  test('while learning, it records where each occurrence sits and where its contents end', () => {
    const row = { id: 'a', n: 1 }
    const step = recordedStep(recorder.insertInto('items').values(row))
    if (step === undefined) throw new Error('not a recording')
    const reading = readForLearning(step)
    expect(reading?.values.slice(0, reading.count)).toEqual(['items', row, 'a', 1])
    expect(reading?.places?.[1]?.key).toBe(0)
    expect(reading?.places?.[2]).toEqual({ container: row, key: 'id' })
    expect(reading?.ends).toEqual([1, 4, 3, 4])
  })
})

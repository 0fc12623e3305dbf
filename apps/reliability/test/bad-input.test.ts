import { readdirSync } from 'node:fs'
import { createCollector, isEskitError, isValidProjectionName, type Projection } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import fc from 'fast-check'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createWorkspace, dumpOf, type Workspace } from '../src/fixture.ts'
import { byType, eventLog } from '../src/projections.ts'
import { type ReliabilityRow, recordResults } from '../src/results.ts'

type Db = Database.Database
const rows: ReliabilityRow[] = []
let ws: Workspace | undefined
afterEach(async () => {
  await ws?.close()
  ws = undefined
})
afterAll(() => recordResults('input', rows))

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/
const projectionNamed = (name: string): Projection<Db> => ({
  name,
  version: '1',
  setup: (db) => {
    db.exec('create table t (x)')
  },
  apply: () => {},
})

describe('projection names (property-based)', () => {
  it('refuses every invalid name with INVALID_NAME before any file is touched', {
    timeout: 60_000,
  }, async () => {
    ws = createWorkspace()
    const hostile = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        '',
        '.',
        '..',
        '../x',
        'a/b',
        'a\\b',
        '.hidden',
        'x'.repeat(129),
        'nul\0byte',
        'sp ace',
        'é',
      ),
      fc.string({
        unit: fc.constantFrom('a', '.', '/', '\\', '-', '_', '\0', ' ', ':', '*', '?'),
        maxLength: 20,
      }),
    )
    let tried = 0
    await fc.assert(
      fc.asyncProperty(hostile, async (name) => {
        tried++
        const collector = createCollector({
          events: ws!.events,
          store: sqliteStore({ dir: ws!.projectionsDir }),
        })
        const valid = NAME.test(name)
        expect(isValidProjectionName(name)).toBe(valid)
        if (valid) {
          expect(() => collector.add(projectionNamed(name))).not.toThrow()
        } else {
          let thrown: unknown
          try {
            collector.add(projectionNamed(name))
          } catch (error) {
            thrown = error
          }
          expect(isEskitError(thrown, 'INVALID_NAME')).toBe(true)
        }
        await collector.stop()
        expect(readdirSync(ws!.projectionsDir)).toEqual([])
      }),
      { numRuns: 400 },
    )
    rows.push({
      area: 'input',
      case: 'projection names: random strings, path traversal, empty, too long, reserved characters',
      tried,
      held: tried,
      detail: 'fast-check; every invalid name refused with INVALID_NAME, no file created',
    })
  })
})

/** Values JSON cannot carry faithfully. */
const poison = fc.oneof(
  fc.constant(() => 1),
  fc.bigInt(),
  fc.constant(Symbol('s')),
  fc.constant(Number.NaN),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.constant(new Map([[1, 2]])),
)

describe('events (property-based)', () => {
  it('appends JSON values faithfully and refuses unserialisable ones with INVALID_EVENT, writing nothing', {
    timeout: 60_000,
  }, async () => {
    ws = createWorkspace()
    let good = 0
    let bad = 0
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.jsonValue(),
        fc.option(poison, { nil: undefined, freq: 2 }),
        async (type, data, injected) => {
          const head = await ws!.events.head()
          if (injected === undefined) {
            const normalised = JSON.parse(JSON.stringify(data))
            const { position } = await ws!.events.append('fuzz', [{ type, data }])
            const [stored] = await ws!.events.readAll({ after: position - 1, limit: 1 })
            expect(stored?.type).toBe(type)
            expect(stored?.data).toEqual(normalised)
            good++
          } else {
            const error = await ws!.events
              .append('fuzz', [
                { type: 'Ok', data: 1 },
                { type, data: { nested: [data, injected] } },
              ])
              .catch((e: unknown) => e)
            expect(isEskitError(error, 'INVALID_EVENT')).toBe(true)
            expect(await ws!.events.head()).toBe(head)
            bad++
          }
        },
      ),
      { numRuns: 300 },
    )
    // Structural garbage.
    for (const garbage of [
      null,
      42,
      'x',
      [],
      [null],
      [{}],
      [{ type: '', data: 1 }],
      [{ type: 5, data: 1 }],
      [{ type: 'T' }],
    ]) {
      const error = await ws.events.append('fuzz', garbage as never).catch((e: unknown) => e)
      expect(isEskitError(error, 'INVALID_EVENT')).toBe(true)
      bad++
    }
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(
      isEskitError(
        await ws.events.append('fuzz', [{ type: 'T', data: cyclic }]).catch((e: unknown) => e),
        'INVALID_EVENT',
      ),
    ).toBe(true)
    expect(
      isEskitError(
        await ws.events.append('', [{ type: 'T', data: 1 }]).catch((e: unknown) => e),
        'INVALID_EVENT',
      ),
    ).toBe(true)
    bad += 2
    rows.push({
      area: 'input',
      case: 'events: random JSON (kept exactly), functions/BigInt/symbols/NaN/Map/cycles, malformed shapes, empty stream',
      tried: good + bad,
      held: good + bad,
      detail: `fast-check; ${good} valid events read back equal, ${bad} invalid ones refused with INVALID_EVENT and nothing appended`,
    })
  })

  it('carries a huge payload and unknown event types through to the projections', {
    timeout: 60_000,
  }, async () => {
    ws = createWorkspace()
    const big = { blob: 'x'.repeat(4 * 1024 * 1024), list: Array.from({ length: 10_000 }, (_, i) => i) }
    const { position } = await ws.events.append('big', [{ type: 'Huge', data: big }])
    const [stored] = await ws.events.readAll({ after: position - 1, limit: 1 })
    expect((stored!.data as typeof big).blob.length).toBe(big.blob.length)
    await ws.events.append('x', [{ type: 'NobodyKnowsThis', data: { a: 1 } }])
    const head = await ws.append(20)
    const onlyUnknown: Projection<Db> = { ...projectionNamed('only.unknown'), eventTypes: ['NeverAppended'] }
    const collector = ws.collector([eventLog, byType, onlyUnknown])
    await collector.start()
    await collector.waitFor(head, { timeoutMs: 10_000 })
    expect(dumpOf(collector, eventLog.name).rows).toBe(head)
    expect(collector.status().find((s) => s.name === 'only.unknown')?.position).toBe(head)
    rows.push({
      area: 'input',
      case: 'a 4 MB event, unknown event types, a projection subscribed to a type never appended',
      tried: 3,
      held: 3,
      detail: 'stored and read back intact; projections reached the head',
    })
  })
})

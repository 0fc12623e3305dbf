import { type EventStore, isEskitError, type NewEvent, type StoredEvent } from '@eskit/core'
import { describe, expect, it } from 'vitest'
import { groupTitle, type SuiteContext, useSuiteContext } from './suite-context.js'

/**
 * The groups of {@link runEventStoreSuite}; name one in `skip` to switch it off.
 *
 * @example
 * ```ts
 * const group: EventStoreGroup = 'onAppend'
 * runEventStoreSuite({ name: 'remote log', create, skip: { [group]: 'appends by other nodes only' } })
 * ```
 */
export type EventStoreGroup =
  | 'ordering'
  | 'expectedVersion'
  | 'typeFilter'
  | 'readStream'
  | 'onAppend'
  | 'validation'
  | 'close'

/**
 * Options of {@link runEventStoreSuite}.
 *
 * @example
 * ```ts
 * const options: EventStoreSuiteOptions = {
 *   name: 'my log',
 *   create: (location) => openMyLog(`${location}/log`),
 * }
 * runEventStoreSuite(options)
 * ```
 */
export interface EventStoreSuiteOptions {
  /** Shown in the test titles. */
  name: string
  /**
   * Creates a store over `location` (a fresh temp directory per test). Called twice with the
   * same location, it must give a store over the same data (a restart).
   */
  create(location: string): EventStore | Promise<EventStore>
  /** Groups the store cannot support, each with the reason (shown in the skipped title). */
  skip?: Partial<Record<EventStoreGroup, string>>
}

const ALL_GROUPS: readonly EventStoreGroup[] = [
  'ordering',
  'expectedVersion',
  'typeFilter',
  'readStream',
  'onAppend',
  'validation',
  'close',
]

/**
 * Defines the event-store conformance tests (vitest `describe`/`it`) for an {@link EventStore}
 * adapter: ordering and positions, `expectedVersion` in all forms, type-filtered reads,
 * `readStream`, `onAppend`, validation, close and reopen.
 *
 * @example
 * ```ts
 * // sqlite-event-store.suite.test.ts
 * import { runEventStoreSuite } from '@eskit/store-test-suite'
 * runEventStoreSuite({
 *   name: 'sqlite event store',
 *   create: (location) => openSqliteEventStore({ path: `${location}/events.db` }),
 * })
 * ```
 */
export function runEventStoreSuite(options: EventStoreSuiteOptions): void {
  for (const group of Object.keys(options.skip ?? {})) {
    if (!ALL_GROUPS.includes(group as EventStoreGroup))
      throw new Error(`runEventStoreSuite: unknown group ${group}`)
  }
  describe(`event store conformance: ${options.name}`, () => {
    const context = useSuiteContext()
    const open = async (ctx: SuiteContext = context()): Promise<EventStore> => {
      const store = await options.create(ctx.location)
      ctx.defer(() => store.close())
      return store
    }
    const group = (name: EventStoreGroup, body: () => void): void => {
      const { title, skipped } = groupTitle(name, options.skip)
      if (skipped) describe.skip(title, body)
      else describe(title, body)
    }

    group('ordering', () => {
      it('assigns gap-free positions from 1 across streams and returns the last one', async () => {
        const events = await open()
        expect(await events.head()).toBe(0)
        expect(await events.readAll({ after: 0, limit: 10 })).toEqual([])
        const first = await events.append('a', [ev('T1', 1), ev('T2', 2)])
        expect(first).toEqual({ position: 2, streamVersion: 2 })
        const second = await events.append('b', [ev('T1', 3)])
        expect(second).toEqual({ position: 3, streamVersion: 1 })
        const third = await events.append('a', [ev('T3', 4)])
        expect(third).toEqual({ position: 4, streamVersion: 3 })
        expect(await events.head()).toBe(4)
        const all = await events.readAll({ after: 0, limit: 100 })
        expect(all.map((e) => [e.position, e.streamId, e.streamVersion, e.type, e.data])).toEqual([
          [1, 'a', 1, 'T1', { n: 1 }],
          [2, 'a', 2, 'T2', { n: 2 }],
          [3, 'b', 1, 'T1', { n: 3 }],
          [4, 'a', 3, 'T3', { n: 4 }],
        ])
        for (const e of all) expect(e.recordedAt).toBeInstanceOf(Date)
      })

      it('pages with after and limit', async () => {
        const events = await open()
        for (let i = 1; i <= 25; i++) await events.append(`s${i % 4}`, [ev('T', i)])
        const pages: number[][] = []
        let after = 0
        for (;;) {
          const page = await events.readAll({ after, limit: 10 })
          if (page.length === 0) break
          pages.push(page.map((e) => e.position))
          after = (page[page.length - 1] as StoredEvent).position
        }
        expect(pages.map((p) => p.length)).toEqual([10, 10, 5])
        expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
        expect(await events.readAll({ after: 25, limit: 10 })).toEqual([])
        expect(await events.readAll({ after: 99, limit: 10 })).toEqual([])
      })

      it('keeps data and metadata exactly, and is not changed by the caller mutating its objects', async () => {
        const events = await open()
        const data = {
          text: 'grüße 👋 "quoted"',
          nested: { list: [1, 2.5, null, true], empty: {} },
          n: -0.125,
        }
        const metadata = { correlationId: 'c-1', user: { id: 7 } }
        const input: NewEvent = { type: 'Rich', data, metadata }
        await events.append('rich', [input, { type: 'Null', data: null }])
        data.nested.list.push(99)
        metadata.user.id = 8
        const [rich, none] = await events.readAll({ after: 0, limit: 10 })
        expect(rich?.data).toEqual({
          text: 'grüße 👋 "quoted"',
          nested: { list: [1, 2.5, null, true], empty: {} },
          n: -0.125,
        })
        expect(rich?.metadata).toEqual({ correlationId: 'c-1', user: { id: 7 } })
        expect(none?.data).toBeNull()
        expect(none?.metadata ?? undefined).toBeUndefined()
        // a reader mutating what it got does not change the log either
        ;(rich?.data as { n: number }).n = 1
        const again = await events.readAll({ after: 0, limit: 1 })
        expect(again[0]?.data).toMatchObject({ n: -0.125 })
      })

      it('has a stable, non-empty id', async () => {
        const events = await open()
        expect(typeof events.id).toBe('string')
        expect(events.id.length).toBeGreaterThan(0)
        await events.append('a', [ev('T', 1)])
        expect(events.id).toBe(events.id)
      })
    })

    group('expectedVersion', () => {
      it("'no-stream' succeeds on a new stream and fails with CONCURRENCY on an existing one, writing nothing", async () => {
        const events = await open()
        await events.append('a', [ev('T', 1)], { expectedVersion: 'no-stream' })
        const error = await events.append('a', [ev('T', 2)], { expectedVersion: 'no-stream' }).catch((e) => e)
        expect(isEskitError(error, 'CONCURRENCY')).toBe(true)
        expect(error.details).toMatchObject({ streamId: 'a', expected: 'no-stream', actual: 1 })
        expect(await events.head()).toBe(1)
        expect((await events.readStream('a')).length).toBe(1)
      })

      it('a number must equal the current stream version', async () => {
        const events = await open()
        await events.append('a', [ev('T', 1), ev('T', 2)])
        await events.append('b', [ev('T', 3)])
        expect(await events.append('a', [ev('T', 4)], { expectedVersion: 2 })).toEqual({
          position: 4,
          streamVersion: 3,
        })
        for (const wrong of [0, 2, 4]) {
          const error = await events
            .append('a', [ev('T', 5), ev('T', 6)], { expectedVersion: wrong })
            .catch((e) => e)
          expect(isEskitError(error, 'CONCURRENCY')).toBe(true)
          expect(error.details).toMatchObject({ streamId: 'a', expected: wrong, actual: 3 })
        }
        expect(await events.head()).toBe(4)
        expect((await events.readStream('a')).map((e) => e.streamVersion)).toEqual([1, 2, 3])
      })

      it('0 means the stream does not exist yet', async () => {
        const events = await open()
        expect(await events.append('new', [ev('T', 1)], { expectedVersion: 0 })).toEqual({
          position: 1,
          streamVersion: 1,
        })
        const error = await events.append('new', [ev('T', 2)], { expectedVersion: 0 }).catch((e) => e)
        expect(isEskitError(error, 'CONCURRENCY')).toBe(true)
      })

      it("'any' and no option always append", async () => {
        const events = await open()
        await events.append('a', [ev('T', 1)], { expectedVersion: 'any' })
        await events.append('a', [ev('T', 2)])
        await events.append('a', [ev('T', 3)], { expectedVersion: 'any' })
        expect((await events.readStream('a')).map((e) => e.streamVersion)).toEqual([1, 2, 3])
      })

      it('a failed multi-event append writes none of its events and does not move the head', async () => {
        const events = await open()
        await events.append('a', [ev('T', 1)])
        await events.append('b', [ev('T', 2)])
        const error = await events
          .append('a', [ev('T', 3), ev('T', 4), ev('T', 5)], { expectedVersion: 7 })
          .catch((e) => e)
        expect(isEskitError(error, 'CONCURRENCY')).toBe(true)
        expect(await events.head()).toBe(2)
        expect((await events.readAll({ after: 0, limit: 10 })).map((e) => e.position)).toEqual([1, 2])
        // positions stay gap-free after a refused append
        expect(await events.append('b', [ev('T', 6)])).toEqual({ position: 3, streamVersion: 2 })
      })
    })

    group('typeFilter', () => {
      it('returns only the asked types, in position order, with limit counting matching events', async () => {
        const events = await open()
        for (let i = 1; i <= 30; i++)
          await events.append(`s${i % 3}`, [ev(i % 3 === 0 ? 'Issued' : 'Scanned', i)])
        const issued = await events.readAll({ after: 0, limit: 100, types: ['Issued'] })
        expect(issued.map((e) => e.position)).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30])
        expect(issued.every((e) => e.type === 'Issued')).toBe(true)
        const page = await events.readAll({ after: 4, limit: 3, types: ['Issued'] })
        expect(page.map((e) => e.position)).toEqual([6, 9, 12])
        const both = await events.readAll({ after: 0, limit: 100, types: ['Issued', 'Scanned'] })
        expect(both.length).toBe(30)
        expect(await events.readAll({ after: 0, limit: 10, types: ['Unknown'] })).toEqual([])
      })
    })

    group('readStream', () => {
      it('returns one stream in version order and [] for an unknown stream', async () => {
        const events = await open()
        await events.append('a', [ev('T1', 1)])
        await events.append('b', [ev('T1', 2)])
        await events.append('a', [ev('T2', 3), ev('T3', 4)])
        const a = await events.readStream('a')
        expect(a.map((e) => [e.position, e.streamVersion, e.type])).toEqual([
          [1, 1, 'T1'],
          [3, 2, 'T2'],
          [4, 3, 'T3'],
        ])
        expect(a.every((e) => e.streamId === 'a')).toBe(true)
        expect(await events.readStream('missing')).toEqual([])
      })
    })

    group('onAppend', () => {
      it('calls listeners after each committed append with the new head, until unsubscribed', async () => {
        const events = await open()
        const heads: number[] = []
        const seenInLog: number[] = []
        const unsubscribe = events.onAppend((head) => {
          heads.push(head)
        })
        events.onAppend(() => {
          throw new Error('a broken listener')
        })
        events.onAppend((head) => {
          seenInLog.push(head)
        })
        await events.append('a', [ev('T', 1), ev('T', 2)])
        await events.append('b', [ev('T', 3)])
        unsubscribe()
        await events.append('b', [ev('T', 4)])
        expect(heads).toEqual([2, 3])
        expect(seenInLog).toEqual([2, 3, 4])
        // the broken listener did not undo the appends
        expect(await events.head()).toBe(4)
      })

      it('is not called for a refused append', async () => {
        const events = await open()
        await events.append('a', [ev('T', 1)])
        const heads: number[] = []
        events.onAppend((head) => {
          heads.push(head)
        })
        await events.append('a', [ev('T', 2)], { expectedVersion: 'no-stream' }).catch(() => undefined)
        expect(heads).toEqual([])
      })
    })

    group('validation', () => {
      const bad: Array<[string, unknown]> = [
        ['an empty array', []],
        ['an empty type', [{ type: '', data: {} }]],
        ['a missing type', [{ data: {} }]],
        ['undefined data', [{ type: 'T', data: undefined }]],
        ['a function in data', [{ type: 'T', data: { f: () => 1 } }]],
        ['a BigInt in data', [{ type: 'T', data: { n: 1n } }]],
        ['a cycle in data', [{ type: 'T', data: cyclic() }]],
        ['NaN in data', [{ type: 'T', data: { n: Number.NaN } }]],
        ['non-object metadata', [{ type: 'T', data: {}, metadata: 'x' }]],
        [
          'a bad event after a good one',
          [
            { type: 'T', data: {} },
            { type: 'T', data: { f: () => 1 } },
          ],
        ],
      ]
      for (const [what, input] of bad) {
        it(`refuses ${what} with INVALID_EVENT and writes nothing`, async () => {
          const events = await open()
          await events.append('a', [ev('T', 1)])
          const error = await events.append('a', input as NewEvent[]).catch((e) => e)
          expect(isEskitError(error, 'INVALID_EVENT')).toBe(true)
          expect(await events.head()).toBe(1)
          expect((await events.readStream('a')).length).toBe(1)
        })
      }

      it('refuses an empty stream id with INVALID_EVENT', async () => {
        const events = await open()
        const error = await events.append('', [ev('T', 1)]).catch((e) => e)
        expect(isEskitError(error, 'INVALID_EVENT')).toBe(true)
        expect(await events.head()).toBe(0)
      })
    })

    group('close', () => {
      it('refuses calls after close with CLOSED', async () => {
        const events = await open()
        await events.append('a', [ev('T', 1)])
        await events.close()
        const calls: Array<() => Promise<unknown>> = [
          () => events.append('a', [ev('T', 2)]),
          () => events.readAll({ after: 0, limit: 1 }),
          () => events.readStream('a'),
          () => events.head(),
        ]
        for (const call of calls) {
          const error = await Promise.resolve()
            .then(call)
            .catch((e) => e)
          expect(isEskitError(error, 'CLOSED')).toBe(true)
        }
        await events.close() // idempotent
      })

      it('reopening the same location gives the same log, id and positions', async () => {
        const ctx = context()
        const first = await open(ctx)
        await first.append('a', [ev('T', 1), ev('T', 2)])
        const id = first.id
        await first.close()
        const second = await open(ctx)
        expect(second.id).toBe(id)
        expect(await second.head()).toBe(2)
        expect(await second.append('a', [ev('T', 3)], { expectedVersion: 2 })).toEqual({
          position: 3,
          streamVersion: 3,
        })
      })
    })
  })
}

function ev(type: string, n: number): NewEvent {
  return { type, data: { n } }
}

function cyclic(): unknown {
  const value: Record<string, unknown> = { a: 1 }
  value.self = value
  return value
}

import { recordingLogger } from '@eskit/test-kit'
import { describe, expect, it } from 'vitest'
import { isEskitError } from './eskit-error.js'
import { createMemoryEventStore, createMemoryEventStoreState } from './memory-event-store.js'

const fail = async (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )

describe('createMemoryEventStore', () => {
  it('numbers events from 1 without gaps and versions each stream', async () => {
    const events = createMemoryEventStore()
    expect(await events.append('a', [{ type: 'X', data: 1 }])).toEqual({ position: 1, streamVersion: 1 })
    expect(
      await events.append('b', [
        { type: 'Y', data: 2 },
        { type: 'Y', data: 3 },
      ]),
    ).toEqual({
      position: 3,
      streamVersion: 2,
    })
    expect(await events.append('a', [{ type: 'X', data: 4 }])).toEqual({ position: 4, streamVersion: 2 })
    const all = await events.readAll({ after: 0, limit: 10 })
    expect(all.map((e) => [e.position, e.streamId, e.streamVersion, e.data])).toEqual([
      [1, 'a', 1, 1],
      [2, 'b', 1, 2],
      [3, 'b', 2, 3],
      [4, 'a', 2, 4],
    ])
    expect(await events.head()).toBe(4)
  })

  it('refuses a wrong expectedVersion with CONCURRENCY details and writes nothing', async () => {
    const events = createMemoryEventStore()
    await events.append('a', [{ type: 'X', data: null }])
    const error = await fail(events.append('a', [{ type: 'X', data: null }], { expectedVersion: 5 }))
    expect(isEskitError(error, 'CONCURRENCY')).toBe(true)
    expect(isEskitError(error) && error.details).toEqual({ streamId: 'a', expected: 5, actual: 1 })
    expect(await events.head()).toBe(1)
  })

  it('refuses a malformed expectedVersion or readAll options with INVALID_ARGUMENT', async () => {
    const events = createMemoryEventStore()
    for (const expectedVersion of [-1, 1.5, 'latest']) {
      const error = await fail(
        events.append('a', [{ type: 'X', data: 1 }], { expectedVersion: expectedVersion as 0 }),
      )
      expect(isEskitError(error, 'INVALID_ARGUMENT')).toBe(true)
    }
    for (const options of [
      { after: -1, limit: 1 },
      { after: 0, limit: 0 },
      { after: 0.5, limit: 1 },
      { after: 0, limit: 1, types: 'X' },
    ]) {
      const error = await fail(events.readAll(options as never))
      expect(isEskitError(error, 'INVALID_ARGUMENT')).toBe(true)
    }
    expect(await events.head()).toBe(0)
  })

  it('copies data through JSON in both directions', async () => {
    const events = createMemoryEventStore()
    const data = { list: [1, 2], when: new Date('2026-01-02T03:04:05.000Z') }
    await events.append('a', [{ type: 'X', data, metadata: { by: 'me' } }])
    data.list.push(3)
    const [stored] = await events.readAll({ after: 0, limit: 1 })
    expect(stored?.data).toEqual({ list: [1, 2], when: '2026-01-02T03:04:05.000Z' })
    expect(stored?.metadata).toEqual({ by: 'me' })
    ;(stored as { data: { list: number[] } }).data.list.push(4)
    expect((await events.readStream('a'))[0]?.data).toEqual({
      list: [1, 2],
      when: '2026-01-02T03:04:05.000Z',
    })
  })

  it('logs a throwing onAppend listener and still calls the others', async () => {
    const logger = recordingLogger()
    const events = createMemoryEventStore({ logger })
    const heads: number[] = []
    events.onAppend(() => {
      throw new Error('listener broke')
    })
    events.onAppend((head) => heads.push(head))
    await events.append('a', [{ type: 'X', data: 1 }])
    expect(heads).toEqual([1])
    expect(logger.lines).toEqual([
      { level: 'error', message: 'onAppend listener threw', fields: { error: 'listener broke', head: 1 } },
    ])
  })

  it('reopens over a shared state with the same id and events; a different id is refused', async () => {
    const state = createMemoryEventStoreState()
    const first = createMemoryEventStore({ state, id: 'log-1' })
    await first.append('a', [{ type: 'X', data: 1 }])
    await first.close()
    expect(isEskitError(await fail(first.head()), 'CLOSED')).toBe(true)
    const again = createMemoryEventStore({ state })
    expect(again.id).toBe('log-1')
    expect(await again.head()).toBe(1)
    expect(() => createMemoryEventStore({ state, id: 'log-2' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
    expect(createMemoryEventStore().id).not.toBe(createMemoryEventStore().id)
  })
})

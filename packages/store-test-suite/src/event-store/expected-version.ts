import { isEskitError } from '@eskit/core'
import { expect, it } from 'vitest'
import type { EventStoreSuiteKit } from './kit.js'

/** The `expectedVersion` group of the event-store conformance suite. */
export function expectedVersionTests(kit: EventStoreSuiteKit): void {
  const { open, ev } = kit
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
}

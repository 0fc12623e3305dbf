import { describe, expect, it } from 'vitest'
import { appendMany, recording } from '../test/helpers.js'
import type { EventStore, ReadAllOptions } from './event-store.js'
import { createMemoryEventStore } from './memory-event-store.js'
import { createReadAhead } from './read-ahead.js'

const positions = (read: { batch: { position: number }[] }): number[] => read.batch.map((e) => e.position)

/** A log that reads ahead: `readPage` as `head()` then `readAll()` (each recorded as such). */
function paged<E extends EventStore>(events: E): E {
  return {
    ...events,
    async readPage(options: ReadAllOptions) {
      const head = await events.head()
      return { head, events: await events.readAll(options) }
    },
  }
}

describe('createReadAhead', () => {
  it('a read ahead answers the later read with no second call, as of the moment it was made', async () => {
    const events = paged(recording(createMemoryEventStore()))
    await appendMany(events, 6)
    const reads = createReadAhead(events, 3)
    const first = await reads.read(0, undefined, true)
    expect(positions(first)).toEqual([1, 2, 3])
    reads.ahead(3, undefined, true)
    await appendMany(events, 2) // after the read ahead started: not in its answer
    const second = await reads.read(3, undefined, true)
    expect(positions(second)).toEqual([4, 5, 6])
    expect(second.head).toBe(6)
    expect(events.reads.map((r) => r.after)).toEqual([0, 3])
    // nothing kept any more: the next read of 6 is made on demand and sees the later events
    expect(positions(await reads.read(6, undefined, true))).toEqual([7, 8])
    expect(events.reads.map((r) => r.after)).toEqual([0, 3, 6])
  })

  it('is taken only by a read of the same position and types (in any order)', async () => {
    const events = paged(recording(createMemoryEventStore()))
    await appendMany(events, 9)
    const reads = createReadAhead(events, 100)
    reads.ahead(0, ['B', 'A'], true)
    expect(positions(await reads.read(0, ['A', 'B'], true))).toEqual([1, 2, 4, 5, 7, 8])
    expect(events.reads).toHaveLength(1)
    reads.ahead(0, ['A'], true)
    expect(positions(await reads.read(0, ['C'], true))).toEqual([3, 6, 9])
    expect(positions(await reads.read(1, ['A'], true))).toEqual([4, 7])
    expect(events.reads.map((r) => [r.after, r.types])).toEqual([
      [0, ['B', 'A']],
      [0, ['A']],
      [0, ['C']],
      [1, ['A']],
    ])
  })

  it('a failed read ahead is read again on demand, where its error surfaces', async () => {
    const inner = createMemoryEventStore()
    await appendMany(inner, 4)
    let failures = 1
    const events = paged({
      ...inner,
      async readAll(options: Parameters<typeof inner.readAll>[0]) {
        if (failures-- > 0) throw new Error('read ahead lost')
        return inner.readAll(options)
      },
    })
    const reads = createReadAhead(events, 10)
    reads.ahead(0, undefined, false)
    expect(positions(await reads.read(0, undefined, false))).toEqual([1, 2, 3, 4])
    failures = 1
    await expect(reads.read(0, undefined, false)).rejects.toThrow('read ahead lost')
  })

  it('keeps at most four reads ahead, dropping the oldest', async () => {
    const events = paged(recording(createMemoryEventStore()))
    await appendMany(events, 10)
    const reads = createReadAhead(events, 1)
    for (const from of [0, 1, 2, 3, 4]) reads.ahead(from, undefined, false)
    expect(events.reads).toHaveLength(5)
    for (const from of [1, 2, 3, 4]) await reads.read(from, undefined, false)
    expect(events.reads).toHaveLength(5)
    expect(positions(await reads.read(0, undefined, false))).toEqual([1])
    expect(events.reads).toHaveLength(6)
  })
})

describe('createReadAhead, which log it reads ahead', () => {
  it('never reads ahead a log without readPage (it reads on demand, as it always did)', async () => {
    const events = recording(createMemoryEventStore())
    await appendMany(events, 6)
    const reads = createReadAhead(events, 3)
    expect(reads.ahead(0, undefined, true)).toBe(false)
    expect(events.reads).toEqual([])
    expect(positions(await reads.read(0, undefined, true))).toEqual([1, 2, 3])
    expect(events.reads.map((r) => r.after)).toEqual([0])
  })

  it('takes the head and the page in one call, ahead as on demand', async () => {
    const inner = createMemoryEventStore()
    await appendMany(inner, 5)
    const calls: string[] = []
    const events = {
      ...inner,
      head: () => {
        calls.push('head')
        return inner.head()
      },
      readAll: (options: Parameters<typeof inner.readAll>[0]) => {
        calls.push('readAll')
        return inner.readAll(options)
      },
      async readPage(options: Parameters<typeof inner.readAll>[0]) {
        calls.push(`page ${options.after}`)
        return { head: await inner.head(), events: await inner.readAll(options) }
      },
    }
    const reads = createReadAhead(events, 2)
    const first = await reads.read(0, undefined, true)
    reads.ahead(2, undefined, true)
    const second = await reads.read(2, undefined, true)
    expect([first.head, positions(first), second.head, positions(second)]).toEqual([5, [1, 2], 5, [3, 4]])
    // without the head wanted (a build worker's reads), readAll as before
    expect(positions(await reads.read(4, undefined, false))).toEqual([5])
    expect(calls).toEqual(['page 0', 'page 2', 'readAll'])
  })
})

describe('createReadAhead, how long a read is kept', () => {
  it('a read nobody took is dropped after the next pass, and a newer read ahead replaces an older one', async () => {
    const events = paged(recording(createMemoryEventStore()))
    await appendMany(events, 4)
    const reads = createReadAhead(events, 2)
    reads.newPass()
    reads.ahead(2, undefined, true) // made in pass 1
    reads.newPass() // pass 2: still kept
    await appendMany(events, 1)
    reads.ahead(2, undefined, true) // replaces it: the head is 5 now
    expect((await reads.read(2, undefined, true)).head).toBe(5)
    expect(events.reads).toHaveLength(2)
    reads.ahead(2, undefined, true) // made in pass 2
    reads.newPass() // pass 3: kept through this pass
    reads.newPass() // pass 4: dropped
    await appendMany(events, 1)
    expect((await reads.read(2, undefined, true)).head).toBe(6)
    expect(events.reads).toHaveLength(4)
  })
})

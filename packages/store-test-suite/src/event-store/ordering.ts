import type { NewEvent, StoredEvent } from '@eskit/core'
import { expect, it } from 'vitest'
import type { EventStoreSuiteKit } from './kit.js'

/** The `ordering` group of the event-store conformance suite. */
export function orderingTests(kit: EventStoreSuiteKit): void {
  const { open, ev } = kit
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
}

import { expect, it } from 'vitest'
import type { EventStoreSuiteKit } from './kit.js'

/** The `onAppend` group of the event-store conformance suite. */
export function onAppendTests(kit: EventStoreSuiteKit): void {
  const { open, ev } = kit
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
}

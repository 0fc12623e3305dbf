import { expect, it } from 'vitest'
import type { EventStoreSuiteKit } from './kit.js'

/** The `readStream` group of the event-store conformance suite. */
export function readStreamTests(kit: EventStoreSuiteKit): void {
  const { open, ev } = kit
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
}

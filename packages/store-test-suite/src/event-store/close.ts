import { isEskitError } from '@eskit/core'
import { expect, it } from 'vitest'
import type { EventStoreSuiteKit } from './kit.js'

/** The `close` group of the event-store conformance suite. */
export function closeTests(kit: EventStoreSuiteKit): void {
  const { open, context, ev } = kit
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
}

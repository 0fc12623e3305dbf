import { expect, it } from 'vitest'
import type { EventStoreSuiteKit } from './kit.js'

/** The `typeFilter` group of the event-store conformance suite. */
export function typeFilterTests(kit: EventStoreSuiteKit): void {
  const { open, ev } = kit
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
}

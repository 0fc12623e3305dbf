import { expect, it } from 'vitest'
import type { EventStoreSuiteKit } from './kit.js'

/** The `readPage` group of the event-store conformance suite (an optional method). */
export function readPageTests(kit: EventStoreSuiteKit): void {
  const { open, ev } = kit
  it('readPage answers the head and the page that head() and readAll() give, for every filter', async () => {
    const events = await open()
    for (let i = 1; i <= 12; i++)
      await events.append(`s${i % 3}`, [ev(i % 4 === 0 ? 'Issued' : 'Scanned', i)])
    if (typeof events.readPage !== 'function') return // optional: the collector calls head() and readAll()
    for (const options of [
      { after: 0, limit: 100 },
      { after: 5, limit: 3 },
      { after: 12, limit: 10 },
      { after: 0, limit: 100, types: ['Issued'] },
      { after: 2, limit: 4, types: ['Issued', 'Scanned'] },
      { after: 0, limit: 10, types: [] },
    ]) {
      const page = await events.readPage(options)
      expect(page.head).toBe(12)
      expect(page.events).toEqual(await events.readAll(options))
    }
  })

  it('readPage never answers a head beyond the events its page could hold', async () => {
    const events = await open()
    if (typeof events.readPage !== 'function') return // optional
    const readPage = events.readPage.bind(events)
    const pages = []
    for (let i = 1; i <= 20; i++) {
      const [page] = await Promise.all([
        readPage({ after: 0, limit: 1000 }),
        events.append(`s${i % 3}`, [ev('Scanned', i)]),
      ])
      pages.push(page)
    }
    for (const page of pages) {
      // every event up to the head is in the page: the head is the page's last position
      expect(page.events.map((event) => event.position)).toEqual(
        Array.from({ length: page.head }, (_, k) => k + 1),
      )
    }
    await expect(readPage({ after: -1, limit: 10 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
  })
}

import { isEskitError } from '@eskit/core'
import { expect, it } from 'vitest'
import { appendSample, gate } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `waitFor` group of the projection-store conformance suite. */
export function waitForTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project } = kit
  it('gives read-your-writes for every projection, one append after the other', async () => {
    const t = env()
    const events = t.events()
    const store = await t.store()
    const collector = t.collector({ events, store }, [
      project('suite.ryw', 'ryw_rows'),
      project('suite.ryw_issued', 'ryw_issued_rows', { eventTypes: ['Issued'] }),
    ])
    await collector.start()
    for (let n = 1; n <= 15; n++) {
      const { position } = await events.append(`s-${n % 2}`, [
        { type: n % 3 === 0 ? 'Issued' : 'Scanned', data: { n } },
      ])
      await collector.waitFor(position)
      const rows = await t.rows(store, 'suite.ryw', 'ryw_rows')
      expect(rows[rows.length - 1]?.position).toBe(position)
      expect(rows.length).toBe(n)
    }
    expect((await t.rows(store, 'suite.ryw_issued', 'ryw_issued_rows')).map((r) => r.position)).toEqual([
      3, 6, 9, 12, 15,
    ])
    await collector.waitFor(15, { projections: ['suite.ryw_issued'] })
  })

  it('times out with TIMEOUT naming the projections behind; unknown names are NOT_FOUND', async () => {
    const t = env()
    const memory = t.events()
    const events = gate(memory)
    await appendSample(memory, 10)
    const store = await t.store()
    const collector = t.collector({ events, store }, [project('suite.slow', 'slow_rows')])
    events.block(() => true)
    await collector.start()
    const error = await collector.waitFor(10, { timeoutMs: 40 }).catch((e) => e)
    expect(isEskitError(error, 'TIMEOUT')).toBe(true)
    expect(error.message).toContain('suite.slow')
    const unknown = await collector.waitFor(1, { projections: ['suite.nope'] }).catch((e) => e)
    expect(isEskitError(unknown, 'NOT_FOUND')).toBe(true)
    events.release()
    await collector.waitFor(10)
    expect((await t.rows(store, 'suite.slow', 'slow_rows')).length).toBe(10)
  })

  it('a pending waitFor is rejected with CLOSED by stop()', async () => {
    const t = env()
    const events = t.events()
    const store = await t.store()
    const collector = t.collector({ events, store }, [project('suite.closing', 'closing_rows')])
    await collector.start()
    const pending = collector.waitFor(5).catch((e) => e)
    await collector.stop()
    expect(isEskitError(await pending, 'CLOSED')).toBe(true)
  })
}

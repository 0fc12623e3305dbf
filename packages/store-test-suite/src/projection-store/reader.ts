import { expect, it } from 'vitest'
import { appendSample, expectedRows, readEverything } from '../suite-projections.js'
import { normalise, type ProjectionSuiteKit } from './kit.js'

/** The `reader` group of the projection-store conformance suite. */
export function readerTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, fixture } = kit
  it('the collector reader shows the live data, and follows a rebuild', async () => {
    const t = env()
    const events = t.events()
    await appendSample(events, 12)
    const store = await t.store()
    const collector = t.collector({ events, store }, [project('suite.read', 'read_rows')])
    await collector.start()
    await collector.waitFor(12)
    const log = await readEverything(events)
    expect(normalise(await fixture.rows(collector.reader<Conn>('suite.read'), 'read_rows'))).toEqual(
      expectedRows('1', log),
    )
    await collector.rebuild('suite.read')
    expect(normalise(await fixture.rows(collector.reader<Conn>('suite.read'), 'read_rows'))).toEqual(
      expectedRows('1', log),
    )
    expect(() => collector.reader('suite.nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }))
  })
}

import { expect, it } from 'vitest'
import { appendSample, eventually, expectedRows, readEverything } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `logIdChange` group of the projection-store conformance suite. */
export function logIdChangeTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, restartWith } = kit
  it('data built from another event log is rebuilt', async () => {
    const t = env()
    const logA = t.events('suite-log-a')
    await appendSample(logA, 40)
    const logB = t.events('suite-log-b')
    await appendSample(logB, 25, 1000)
    const { store, second, rebuilt } = await restartWith(t, logA, logB, '1')
    await eventually(() => rebuilt.length === 2, 'both projections rebuilt')
    await second.waitFor(25)
    const log = await readEverything(logB)
    expect(await t.rows(store, 'suite.rebuilt', 'rebuilt_rows')).toEqual(expectedRows('1', log))
    expect(await t.rows(store, 'suite.steady', 'steady_rows')).toEqual(expectedRows('1', log))
  })
}

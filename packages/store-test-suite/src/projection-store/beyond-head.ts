import { expect, it } from 'vitest'
import { appendSample, eventually, expectedRows, readEverything } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `beyondHead` group of the projection-store conformance suite. */
export function beyondHeadTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, LOG_ID, restartWith } = kit
  it('data at a position beyond the log head (log restored from an older backup) is rebuilt', async () => {
    const t = env()
    const longer = t.events(LOG_ID)
    await appendSample(longer, 50)
    const shorter = t.events(LOG_ID)
    await appendSample(shorter, 30)
    const { store, second, rebuilt } = await restartWith(t, longer, shorter, '1')
    await eventually(() => rebuilt.length === 2, 'both projections rebuilt')
    await second.waitFor(30)
    const log = await readEverything(shorter)
    expect(await t.rows(store, 'suite.rebuilt', 'rebuilt_rows')).toEqual(expectedRows('1', log))
    expect(second.status().map((s) => s.position)).toEqual([30, 30])
  })
}

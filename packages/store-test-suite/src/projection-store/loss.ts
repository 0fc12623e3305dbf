import { expect, it } from 'vitest'
import { appendSample, createProbe, eventually, expectedRows, readEverything } from '../suite-projections.js'
import { assertSlotChecksLoss, claimsCapability } from './capabilities.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `loss` group of the projection-store conformance suite. */
export function lossTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, context, options } = kit
  it('a store that detects loss gives each live slot a check()', async (test) => {
    const t = env()
    const store = await t.openStore()
    if (!claimsCapability(store, 'detectsLoss', { loseData: options.loseData })) return test.skip()
    assertSlotChecksLoss(store, await store.openSlot(project('suite.checked', 'checked_rows')))
  })
  it('data that vanishes under a running collector is rebuilt; the other projections are not', async (test) => {
    const t = env()
    const events = t.events()
    await appendSample(events, 30)
    const store = await t.store()
    if (!claimsCapability(store, 'detectsLoss', { loseData: options.loseData })) return test.skip()
    const otherProbe = createProbe()
    const collector = t.collector({ events, store }, [
      project('suite.lost', 'lost_rows'),
      project('suite.kept', 'kept_rows', { probe: otherProbe }),
    ])
    await collector.start()
    await collector.waitFor(30)
    otherProbe.applied.length = 0
    await options.loseData?.(context().location, 'suite.lost', store)
    await appendSample(events, 2, 31)
    await collector.waitFor(32)
    const log = await readEverything(events)
    await eventually(
      async () => (await t.rows(store, 'suite.lost', 'lost_rows')).length === 32,
      'the rebuilt rows',
    )
    expect(await t.rows(store, 'suite.lost', 'lost_rows')).toEqual(expectedRows('1', log))
    expect(await t.rows(store, 'suite.kept', 'kept_rows')).toEqual(expectedRows('1', log))
    expect(otherProbe.applied).toEqual([31, 32])
  })
}

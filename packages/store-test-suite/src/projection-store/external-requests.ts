import type { RebuiltInfo } from '@eskit/core'
import { expect, it } from 'vitest'
import { appendSample, createProbe, eventually, expectedRows, readEverything } from '../suite-projections.js'
import { claimsCapability } from './capabilities.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `externalRequests` group of the projection-store conformance suite. */
export function externalRequestsTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, context, options } = kit
  it('a rebuild requested from outside the process is picked up by the poll and rebuilds', async (test) => {
    const t = env()
    const events = t.events()
    await appendSample(events, 30)
    const store = await t.store()
    if (!claimsCapability(store, 'externalRequests', { requestRebuild: options.requestRebuild }))
      return test.skip()
    const probe = createProbe()
    const collector = t.collector({ events, store }, [
      project('suite.asked', 'asked_rows', { probe }),
      project('suite.other', 'other_rows'),
    ])
    const rebuilt: RebuiltInfo[] = []
    collector.on('rebuilt', (info) => rebuilt.push(info))
    await collector.start()
    await collector.waitFor(30)
    await eventually(() => rebuilt.length === 2, 'the first builds')
    probe.applied.length = 0
    await options.requestRebuild?.(context().location, 'suite.asked', store)
    await eventually(() => rebuilt.length === 3, 'the requested rebuild')
    expect(rebuilt[2]).toMatchObject({ name: 'suite.asked', position: 30 })
    expect(probe.applied).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    const log = await readEverything(events)
    expect(await t.rows(store, 'suite.asked', 'asked_rows')).toEqual(expectedRows('1', log))
    expect(await t.rows(store, 'suite.other', 'other_rows')).toEqual(expectedRows('1', log))
  })
}

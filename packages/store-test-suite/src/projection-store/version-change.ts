import { expect, it } from 'vitest'
import { appendSample, eventually, expectedRows, readEverything } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `versionChange` group of the projection-store conformance suite. */
export function versionChangeTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, restartWith } = kit
  it('a new version is rebuilt from the log and reports rebuilt; other projections are untouched', async () => {
    const t = env()
    const events = t.events()
    await appendSample(events, 90)
    const { store, second, rebuilt, steadyProbe } = await restartWith(t, events, events, '2')
    const rebuilding = second.status().find((s) => s.name === 'suite.rebuilt')
    expect(rebuilding).toMatchObject({ version: '2', state: 'rebuilding' })
    expect(rebuilding?.rebuild?.target).toBe(90)
    await eventually(() => rebuilt.length === 1, 'the rebuilt event')
    expect(rebuilt[0]).toMatchObject({
      name: 'suite.rebuilt',
      version: '2',
      position: 90,
      swapped: store.capabilities.buildBeside,
    })
    await second.waitFor(90)
    const log = await readEverything(events)
    expect(await t.rows(store, 'suite.rebuilt', 'rebuilt_rows')).toEqual(expectedRows('2', log))
    expect(await t.rows(store, 'suite.steady', 'steady_rows')).toEqual(expectedRows('1', log))
    expect(steadyProbe.applied).toEqual([])
    await eventually(
      () => second.status().find((s) => s.name === 'suite.rebuilt')?.state === 'live',
      'the rebuilt projection live',
    )
    expect(second.status().find((s) => s.name === 'suite.rebuilt')?.rebuild).toBeUndefined()
  })
}

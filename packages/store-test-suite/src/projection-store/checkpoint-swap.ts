import { isEskitError } from '@eskit/core'
import { expect, it } from 'vitest'
import { createProbe, expectedRows } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `checkpointSwap` group of the projection-store conformance suite. */
export function checkpointSwapTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, sample, LOG_ID } = kit
  it('a commit from a checkpoint that is not the stored one fails with CHECKPOINT_CONFLICT and writes nothing', async () => {
    const t = env()
    const store = await t.openStore()
    const all = await sample(t.events(), 6)
    const probe = createProbe()
    const slot = await store.openSlot(project('suite.cas', 'cas_rows', { probe }))
    await slot.initialize({ version: '1', logId: LOG_ID })
    await slot.commit({ from: 0, to: 3, events: all.slice(0, 3) })
    for (const from of [0, 2, 4]) {
      const batch = all.filter((event) => event.position > from && event.position <= 6)
      const error = await slot.commit({ from, to: 6, events: batch }).catch((e) => e)
      expect(isEskitError(error, 'CHECKPOINT_CONFLICT')).toBe(true)
    }
    expect((await slot.state())?.position).toBe(3)
    expect(await t.rows(store, 'suite.cas', 'cas_rows')).toEqual(expectedRows('1', all.slice(0, 3)))
    await slot.commit({ from: 3, to: 6, events: all.slice(3) })
    expect(await t.rows(store, 'suite.cas', 'cas_rows')).toEqual(expectedRows('1', all))
  })
}

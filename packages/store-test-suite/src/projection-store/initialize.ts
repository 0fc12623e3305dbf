import { isEskitError, type Projection } from '@eskit/core'
import { expect, it } from 'vitest'
import { expectedRows } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `initialize` group of the projection-store conformance suite. */
export function initializeTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, sample, fixture, LOG_ID } = kit
  it('initialize empties the slot and runs setup again (reset)', async () => {
    const t = env()
    const store = await t.openStore()
    const all = await sample(t.events(), 5)
    const slot = await store.openSlot(project('suite.reset', 'reset_rows'))
    await slot.initialize({ version: '1', logId: LOG_ID })
    await slot.commit({ from: 0, to: 5, events: all })
    expect((await t.rows(store, 'suite.reset', 'reset_rows')).length).toBe(5)
    await slot.initialize({ version: '2', logId: 'suite-log-b' })
    expect(await slot.state()).toMatchObject({ position: 0, version: '2', logId: 'suite-log-b' })
    expect(await t.rows(store, 'suite.reset', 'reset_rows')).toEqual([])
    await slot.commit({ from: 0, to: 2, events: all.slice(0, 2) })
    expect((await t.rows(store, 'suite.reset', 'reset_rows')).length).toBe(2)
  })

  it('a setup that throws fails with PROJECTION_FAILED and keeps the previous data and state', async () => {
    const t = env()
    const store = await t.openStore()
    const all = await sample(t.events(), 4)
    const good = project('suite.setup', 'setup_rows')
    const slot = await store.openSlot(good)
    await slot.initialize({ version: '1', logId: LOG_ID })
    await slot.commit({ from: 0, to: 4, events: all })
    const before = await slot.state()
    await slot.close()
    const broken: Projection<Conn> = {
      ...good,
      version: '2',
      setup(conn) {
        fixture.setup(conn, 'setup_other')
        throw new Error('setup broke')
      },
    }
    const again = await store.openSlot(broken)
    const error = await again.initialize({ version: '2', logId: LOG_ID }).catch((e) => e)
    expect(isEskitError(error, 'PROJECTION_FAILED')).toBe(true)
    expect(await again.state()).toEqual(before)
    expect(await t.rows(store, 'suite.setup', 'setup_rows')).toEqual(expectedRows('1', all))
  })
}

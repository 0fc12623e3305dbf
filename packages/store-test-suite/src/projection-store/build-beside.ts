import { expect, it } from 'vitest'
import { expectedRows } from '../suite-projections.js'
import { claimsCapability } from './capabilities.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `buildBeside` group of the projection-store conformance suite. */
export function buildBesideTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, sample, LOG_ID } = kit
  it('a build is invisible to readers until swap, then replaces the live data durably', async (test) => {
    const t = env()
    const store = await t.openStore()
    if (!claimsCapability(store, 'buildBeside')) return test.skip()
    const all = await sample(t.events(), 8)
    const v1 = project('suite.beside', 'beside_rows')
    const live = await store.openSlot(v1)
    await live.initialize({ version: '1', logId: LOG_ID })
    await live.commit({ from: 0, to: 8, events: all })
    const v2 = project('suite.beside', 'beside_rows', { version: '2' })
    const build = await (store.beginBuild as NonNullable<typeof store.beginBuild>)(v2)
    expect(await build.state()).toBeNull()
    await build.initialize({ version: '2', logId: LOG_ID })
    await build.commit({ from: 0, to: 5, events: all.slice(0, 5) })
    // readers and the live slot still see version 1
    expect(await t.rows(store, 'suite.beside', 'beside_rows')).toEqual(expectedRows('1', all))
    expect(await live.state()).toMatchObject({ version: '1', position: 8 })
    const swapped = await build.swap()
    expect(await swapped.state()).toMatchObject({ version: '2', position: 5 })
    expect(await t.rows(store, 'suite.beside', 'beside_rows')).toEqual(expectedRows('2', all.slice(0, 5)))
    await swapped.commit({ from: 5, to: 8, events: all.slice(5) })
    expect(await t.rows(store, 'suite.beside', 'beside_rows')).toEqual(expectedRows('2', all))
    await store.close()
    const reopened = await t.openStore()
    const slot = await reopened.openSlot(v2)
    expect(await slot.state()).toMatchObject({ version: '2', position: 8 })
    expect(await t.rows(reopened, 'suite.beside', 'beside_rows')).toEqual(expectedRows('2', all))
  })

  it('discard throws the build away and leaves the live data intact', async (test) => {
    const t = env()
    const store = await t.openStore()
    if (!claimsCapability(store, 'buildBeside')) return test.skip()
    const all = await sample(t.events(), 6)
    const v1 = project('suite.discard', 'discard_rows')
    const live = await store.openSlot(v1)
    await live.initialize({ version: '1', logId: LOG_ID })
    await live.commit({ from: 0, to: 6, events: all })
    const before = await live.state()
    const build = await (store.beginBuild as NonNullable<typeof store.beginBuild>)(
      project('suite.discard', 'discard_rows', { version: '2' }),
    )
    await build.initialize({ version: '2', logId: LOG_ID })
    await build.commit({ from: 0, to: 2, events: all.slice(0, 2) })
    await build.discard()
    expect(await live.state()).toEqual(before)
    expect(await t.rows(store, 'suite.discard', 'discard_rows')).toEqual(expectedRows('1', all))
    await live.commit({ from: 6, to: 6, events: [] })
    await store.close()
    const reopened = await t.openStore()
    expect(await (await reopened.openSlot(v1)).state()).toEqual(before)
    expect(await t.rows(reopened, 'suite.discard', 'discard_rows')).toEqual(expectedRows('1', all))
  })
}

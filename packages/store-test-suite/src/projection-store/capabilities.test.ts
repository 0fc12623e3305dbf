import { memoryStore, type ProjectionStore } from '@eskit/core'
import { describe, expect, it } from 'vitest'
import { assertSlotChecksLoss, claimsCapability } from './capabilities.js'

const claiming = (
  capabilities: Partial<ProjectionStore['capabilities']>,
  without: Array<'beginBuild' | 'takeRequests'>,
) => {
  const inner = memoryStore()
  const store: ProjectionStore<unknown> = {
    ...inner,
    capabilities: { ...inner.capabilities, ...capabilities },
    open: (context) => inner.open(context),
    openSlot: (projection) => inner.openSlot(projection as never),
    reader: (name) => inner.reader(name),
    close: () => inner.close(),
  }
  if (!without.includes('beginBuild') && inner.beginBuild)
    store.beginBuild = inner.beginBuild.bind(inner) as never
  if (!without.includes('takeRequests') && inner.takeRequests)
    store.takeRequests = inner.takeRequests.bind(inner)
  for (const method of without) delete store[method]
  return store
}

describe('capability claims', () => {
  it('a capability the store does not claim is skipped', () => {
    expect(claimsCapability(claiming({ buildBeside: false }, ['beginBuild']), 'buildBeside')).toBe(false)
  })

  it('a claimed capability with its method runs', () => {
    expect(claimsCapability(claiming({ buildBeside: true }, []), 'buildBeside')).toBe(true)
  })

  it('claiming buildBeside without beginBuild, or externalRequests without takeRequests, fails', () => {
    expect(() => claimsCapability(claiming({ buildBeside: true }, ['beginBuild']), 'buildBeside')).toThrow(
      /claims capabilities.buildBeside but has no beginBuild\(\)/,
    )
    expect(() =>
      claimsCapability(claiming({ externalRequests: true }, ['takeRequests']), 'externalRequests'),
    ).toThrow(/claims capabilities.externalRequests but has no takeRequests\(\)/)
  })

  it('a claim the suite cannot exercise (its hook missing) fails instead of skipping', () => {
    const store = claiming({ externalRequests: true }, [])
    expect(() => claimsCapability(store, 'externalRequests', { requestRebuild: undefined })).toThrow(
      /pass the suite option requestRebuild/,
    )
  })

  it('claiming detectsLoss with slots that have no check() fails', async () => {
    const store = claiming({ detectsLoss: true }, [])
    await store.open({ logId: 'log', logger: { debug() {}, info() {}, warn() {}, error() {} } })
    // memoryStore without its own detectsLoss option gives slots no check()
    const slot = await store.openSlot({ name: 'p', version: '1', setup() {}, apply() {} })
    expect(() => assertSlotChecksLoss(store, slot)).toThrow(/slots have no check\(\)/)
    await store.close()
  })
})

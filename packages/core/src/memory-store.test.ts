import { describe, expect, it } from 'vitest'
import { deferred, positionsOf, rowsProjection } from '../test/helpers.js'
import { isEskitError } from './eskit-error.js'
import type { StoredEvent } from './event.js'
import { silentLogger } from './logger.js'
import { createMemoryStoreState, memoryStore } from './memory-store.js'

const context = { logId: 'log-1', logger: silentLogger }
const at = (position: number): StoredEvent => ({
  position,
  streamId: 's',
  streamVersion: position,
  type: 'T',
  data: { position },
  recordedAt: new Date(0),
})
const codeOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (isEskitError(error) ? error.code : String(error)),
  )

describe('memoryStore', () => {
  it('declares its capabilities', () => {
    expect(memoryStore().capabilities).toEqual({
      buildBeside: true,
      detectsLoss: false,
      externalRequests: true,
    })
    expect(memoryStore({ buildBeside: false }).capabilities.buildBeside).toBe(false)
    expect(memoryStore().kind).toBe('memory')
  })

  it('must be opened first, refuses a second owner with LOCKED, and is CLOSED after close', async () => {
    const state = createMemoryStoreState()
    const store = memoryStore({ state })
    expect(await codeOf(store.openSlot(rowsProjection('p')))).toBe('INVALID_STATE')
    await store.open(context)
    expect(await codeOf(memoryStore({ state }).open(context))).toBe('LOCKED')
    const slot = await store.openSlot(rowsProjection('p'))
    await store.close()
    await store.close()
    expect(await codeOf(slot.state())).toBe('CLOSED')
    expect(await codeOf(store.open(context))).toBe('CLOSED')
    expect(await codeOf(memoryStore({ state }).open(context))).toBe('resolved')
  })

  it('validates names and batches before touching anything', async () => {
    const store = memoryStore()
    await store.open(context)
    expect(await codeOf(store.openSlot(rowsProjection('../p')))).toBe('INVALID_NAME')
    expect(() => store.reader('a/b')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }))
    const slot = await store.openSlot(rowsProjection('p'))
    expect(await codeOf(slot.commit({ from: 0, to: 1, events: [at(1)] }))).toBe('INVALID_STATE')
    await slot.initialize({ version: '1', logId: 'log-1' })
    expect(await codeOf(slot.commit({ from: 0, to: 1, events: [at(2)] }))).toBe('INVALID_ARGUMENT')
    expect((await slot.state())?.position).toBe(0)
  })

  it('publishes a commit only when apply has finished: readers see the old data meanwhile', async () => {
    const store = memoryStore()
    await store.open(context)
    const hold = deferred()
    const slot = await store.openSlot(rowsProjection('p', { control: { applied: [], hold: hold.promise } }))
    await slot.initialize({ version: '1', logId: 'log-1' })
    const committing = slot.commit({ from: 0, to: 2, events: [at(1), at(2)] })
    await Promise.resolve()
    expect(positionsOf(store.reader('p'))).toEqual([])
    hold.resolve()
    await committing
    expect(positionsOf(store.reader('p'))).toEqual([1, 2])
  })

  it('a projection that keeps its connection after the batch cannot write through it', async () => {
    const store = memoryStore()
    await store.open(context)
    let kept: import('./memory-connection.js').MemoryConnection | undefined
    const slot = await store.openSlot({
      name: 'p',
      version: '1',
      setup: () => {},
      apply: (_events, conn) => {
        kept = conn
      },
    })
    await slot.initialize({ version: '1', logId: 'log-1' })
    await slot.commit({ from: 0, to: 1, events: [at(1)] })
    expect(() => kept?.table('t').set('x', {})).toThrow(expect.objectContaining({ code: 'CLOSED' }))
  })

  it('swap replaces the live data, closes the old live slot and finishes the build', async () => {
    const store = memoryStore()
    await store.open(context)
    const live = await store.openSlot(rowsProjection('p'))
    await live.initialize({ version: '1', logId: 'log-1' })
    await live.commit({ from: 0, to: 1, events: [at(1)] })
    const build = await store.beginBuild?.(rowsProjection('p', { version: '2' }))
    if (!build) throw new Error('no build')
    expect(await codeOf(build.swap())).toBe('INVALID_STATE')
    await build.initialize({ version: '2', logId: 'log-1' })
    await build.commit({ from: 0, to: 3, events: [at(2), at(3)] })
    const next = await build.swap()
    expect(await codeOf(live.state())).toBe('CLOSED')
    expect(await codeOf(build.swap())).toBe('INVALID_STATE')
    await build.discard()
    expect(await next.state()).toMatchObject({ version: '2', position: 3 })
    expect(positionsOf(store.reader('p'))).toEqual([2, 3])
  })

  it('without build-beside, beginBuild is INVALID_STATE', async () => {
    const store = memoryStore({ buildBeside: false })
    await store.open(context)
    expect(await codeOf(store.beginBuild?.(rowsProjection('p')) ?? Promise.resolve())).toBe('INVALID_STATE')
  })

  it('with detectsLoss, a live slot whose data was removed reports lost', async () => {
    const store = memoryStore({ detectsLoss: true })
    expect(store.capabilities.detectsLoss).toBe(true)
    await store.open(context)
    const slot = await store.openSlot(rowsProjection('p'))
    await slot.initialize({ version: '1', logId: 'log-1' })
    expect(slot.check?.()).toBe('ok')
    store.state.projections.delete('p')
    expect(slot.check?.()).toBe('lost')
    const fresh = await store.openSlot(rowsProjection('p'))
    expect(await fresh.state()).toBeNull()
    expect(fresh.check?.()).toBe('ok')
    const plain = memoryStore()
    await plain.open(context)
    expect((await plain.openSlot(rowsProjection('q'))).check).toBeUndefined()
  })

  it('hands out each rebuild request once and keeps the published status', async () => {
    const store = memoryStore()
    await store.open(context)
    const id = store.requestRebuild('p')
    expect(await store.takeRequests?.()).toEqual([{ type: 'rebuild', name: 'p', id }])
    expect(await store.takeRequests?.()).toEqual([])
    expect(() => store.requestRebuild('../x')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }))
    const status = [{ name: 'p', version: '1', state: 'live' as const, position: 1, head: 1, lag: 0 }]
    store.publishStatus?.(status)
    status[0] = { ...status[0], position: 9 } as (typeof status)[0]
    expect(store.state.status).toEqual([
      { name: 'p', version: '1', state: 'live', position: 1, head: 1, lag: 0 },
    ])
  })
})

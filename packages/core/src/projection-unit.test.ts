import { describe, expect, it } from 'vitest'
import { rowsProjection } from '../test/helpers.js'
import { createMemoryEventStore } from './memory-event-store.js'
import { memoryStore } from './memory-store.js'
import type { ProjectionBuild, ProjectionSlot } from './projection-store.js'
import {
  createUnit,
  endBackoff,
  fail,
  finishRun,
  isActive,
  isHalted,
  isHeld,
  loseData,
  openedNeedingRebuild,
  openedServing,
  pendingRebuildOf,
  publicState,
  reachHead,
  recover,
  release,
  requestRebuild,
  startRun,
  unitPosition,
  workingSlot,
} from './projection-unit.js'

const T0 = 1_000_000
const unit = () => createUnit(rowsProjection('p'), () => T0)
const backoff = (until: number) => () => ({ kind: 'backoff' as const, until })
const halt = () => ({ kind: 'halted' as const })

/** A real memory-store slot and build (the transitions only keep them). */
async function slots(): Promise<{ slot: ProjectionSlot; build: ProjectionBuild }> {
  const store = memoryStore()
  await store.open({
    logId: createMemoryEventStore().id,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  })
  const projection = rowsProjection('p')
  const slot = await store.openSlot(projection)
  if (!store.beginBuild) throw new Error('memoryStore builds beside')
  return { slot, build: await store.beginBuild(projection) }
}

describe('projection unit: phases', () => {
  it("starts opening: 'starting', not active, no pending rebuild", () => {
    const u = unit()
    expect(u.phase).toEqual({ kind: 'opening', rebuild: null })
    expect(publicState(u, false)).toBe('starting')
    expect(isActive(u, T0)).toBe(false)
    expect(pendingRebuildOf(u)).toBeNull()
  })

  it('opening → serving: catching-up below the head, live at it', () => {
    const u = unit()
    openedServing(u, 5, false)
    expect(u.phase).toEqual({ kind: 'serving', atHead: false })
    expect(u.position).toBe(5)
    expect(publicState(u, false)).toBe('catching-up')
    reachHead(u)
    expect(publicState(u, false)).toBe('live')
    expect(publicState(u, true)).toBe('stopped')
  })

  it('a rebuild asked for while opening is remembered, and one pending keeps its reason', () => {
    const u = unit()
    requestRebuild(u, 'requested')
    requestRebuild(u, 'second')
    expect(pendingRebuildOf(u)).toBe('requested')
    openedNeedingRebuild(u, 3, 'version changed from 1 to 2', false)
    requestRebuild(u, 'requested')
    expect(u.phase).toEqual({
      kind: 'pending-rebuild',
      reason: 'version changed from 1 to 2',
      untrusted: false,
    })
    expect(publicState(u, false)).toBe('rebuilding')
    requestRebuild(u, 'data vanished', true)
    expect(pendingRebuildOf(u)).toBe('data vanished')
  })

  it('serving → pending-rebuild on request; a running rebuild is not asked twice', async () => {
    const { slot, build } = await slots()
    const u = unit()
    u.slot = slot
    openedServing(u, 4, true)
    requestRebuild(u, 'requested')
    expect(u.phase).toEqual({ kind: 'pending-rebuild', reason: 'requested', untrusted: false })
    expect(isActive(u, T0)).toBe(false)
    startRun(u, build, 'requested', T0)
    requestRebuild(u, 'again')
    expect(u.phase.kind).toBe('rebuilding')
    requestRebuild(u, 'build lost', true)
    expect(u.phase).toEqual({ kind: 'pending-rebuild', reason: 'build lost', untrusted: false })
  })

  it('a rebuild beside advances its own position; readers keep the live one', async () => {
    const { slot, build } = await slots()
    const u = unit()
    u.slot = slot
    openedNeedingRebuild(u, 7, 'version changed', false)
    startRun(u, build, 'version changed', T0)
    expect(u.position).toBe(7)
    expect(unitPosition(u)).toBe(0)
    expect(workingSlot(u)).toBe(build)
    expect(isActive(u, T0)).toBe(true)
    if (u.phase.kind === 'rebuilding') u.phase.run.position = 9
    expect(unitPosition(u)).toBe(9)
    u.position = 9 // the swap took the build's checkpoint
    finishRun(u, 9)
    expect(u.phase).toEqual({ kind: 'serving', atHead: true })
    expect(workingSlot(u)).toBe(slot)
  })

  it('a rebuild in place starts the live data over at 0', async () => {
    const { slot } = await slots()
    const u = unit()
    u.slot = slot
    openedNeedingRebuild(u, 7, 'event log changed', true)
    startRun(u, null, 'event log changed', T0)
    expect(u.position).toBe(0)
    expect(unitPosition(u)).toBe(0)
    expect(workingSlot(u)).toBe(slot)
    finishRun(u, 10)
    expect(u.phase).toEqual({ kind: 'serving', atHead: false })
  })

  it('lost data goes back to opening, keeping a pending rebuild but not a running one', () => {
    const u = unit()
    openedNeedingRebuild(u, 7, 'version changed', false)
    loseData(u)
    expect(u.phase).toEqual({ kind: 'opening', rebuild: 'version changed' })
    expect(u.position).toBe(0)
    expect(u.slot).toBeNull()
    startRun(u, null, 'new projection', T0)
    loseData(u)
    expect(u.phase).toEqual({ kind: 'opening', rebuild: null })
  })
})

describe('projection unit: failures', () => {
  it('counts attempts at the same position and starts over at another', () => {
    const u = unit()
    openedServing(u, 0, true)
    expect(fail(u, 'boom', 3, backoff(T0 + 100)).attempts).toBe(1)
    expect(fail(u, 'boom', 3, backoff(T0 + 200)).attempts).toBe(2)
    expect(fail(u, 'other', 4, backoff(T0 + 100)).attempts).toBe(1)
    expect(publicState(u, false)).toBe('failed')
    // a failure leaves the head: after recovery it catches up again before it is live
    expect(u.phase).toEqual({ kind: 'serving', atHead: false })
  })

  it('hands the attempts to the hold it computes', () => {
    const u = unit()
    const seen: number[] = []
    fail(u, 'x', 1, (attempts) => {
      seen.push(attempts)
      return { kind: 'none' }
    })
    fail(u, 'x', 1, (attempts) => {
      seen.push(attempts)
      return { kind: 'none' }
    })
    expect(seen).toEqual([1, 2])
  })

  it('a backoff holds until its time; ending it keeps the failure reported', async () => {
    const { slot } = await slots()
    const u = unit()
    u.slot = slot
    openedServing(u, 0, true)
    fail(u, 'boom', 1, backoff(T0 + 100))
    expect(isHeld(u, T0 + 99)).toBe(true)
    expect(isActive(u, T0 + 99)).toBe(false)
    expect(isHeld(u, T0 + 100)).toBe(false)
    expect(isActive(u, T0 + 100)).toBe(true)
    endBackoff(u)
    expect(isHeld(u, T0)).toBe(false)
    expect(u.failure).toMatchObject({ message: 'boom', attempts: 1, hold: { kind: 'none' } })
    expect(publicState(u, false)).toBe('failed')
  })

  it('halted holds at any time until released; recovery clears the failure', () => {
    const u = unit()
    openedServing(u, 0, true)
    fail(u, 'boom', 1, halt)
    expect(isHalted(u)).toBe(true)
    expect(isHeld(u, Number.POSITIVE_INFINITY)).toBe(true)
    endBackoff(u) // a retry timer that fires late does not release a halt
    expect(isHalted(u)).toBe(true)
    release(u)
    expect(isHalted(u)).toBe(false)
    expect(u.failure?.attempts).toBe(1)
    expect(recover(u)).toBe(true)
    expect(u.failure).toBeNull()
    expect(recover(u)).toBe(false)
  })
})

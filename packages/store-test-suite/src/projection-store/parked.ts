import { isEskitError, type StoredEvent } from '@eskit/core'
import { expect, it } from 'vitest'
import type { ProjectionSuiteKit } from './kit.js'

/** The `parked` group of the projection-store conformance suite. */
export function parkedTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, sample, LOG_ID } = kit
  it('parked events are stored with the commit, listed oldest first, kept over a reopen, cleared by initialize', async () => {
    const t = env()
    const store = await t.openStore()
    const all = await sample(t.events(), 6)
    const projection = project('suite.parked', 'parked_rows')
    const slot = await store.openSlot(projection)
    await slot.initialize({ version: '1', logId: LOG_ID })
    expect(await slot.parked()).toEqual([])
    const parkedAt = new Date().toISOString()
    const park = (event: StoredEvent) => ({
      position: event.position,
      streamId: event.streamId,
      type: event.type,
      error: `cannot apply ${event.position}`,
      attempts: 1,
      parkedAt,
      event,
    })
    const e2 = all[1] as StoredEvent
    const e5 = all[4] as StoredEvent
    await slot.commit({ from: 0, to: 1, events: all.slice(0, 1) })
    await slot.commit({ from: 1, to: 2, events: [], parked: [park(e2)] })
    await slot.commit({ from: 2, to: 5, events: all.slice(2, 4), parked: [park(e5)] })
    const listed = await slot.parked()
    expect(listed.map((p) => [p.position, p.streamId, p.type, p.error, p.attempts, p.parkedAt])).toEqual([
      [2, e2.streamId, e2.type, 'cannot apply 2', 1, parkedAt],
      [5, e5.streamId, e5.type, 'cannot apply 5', 1, parkedAt],
    ])
    // recordedAt comes back as a Date, as in every StoredEvent (not the string JSON would leave)
    for (const parked of listed) {
      expect(parked.event.recordedAt).toBeInstanceOf(Date)
      expect(parked.event.recordedAt.getTime()).toBe(all[parked.position - 1]?.recordedAt.getTime())
    }
    expect(listed[0]?.event).toMatchObject({
      position: 2,
      streamId: e2.streamId,
      type: e2.type,
      data: e2.data,
    })
    // parked events are part of the batch: a conflicting commit parks nothing
    const conflict = await slot
      .commit({ from: 4, to: 6, events: [], parked: [park(all[5] as StoredEvent)] })
      .catch((e) => e)
    expect(isEskitError(conflict, 'CHECKPOINT_CONFLICT')).toBe(true)
    expect((await slot.parked()).length).toBe(2)
    await store.close()
    const reopened = await t.openStore()
    const again = await reopened.openSlot(projection)
    expect((await again.parked()).map((p) => p.position)).toEqual([2, 5])
    await again.initialize({ version: '1', logId: LOG_ID })
    expect(await again.parked()).toEqual([])
  })
}

import { expect, it } from 'vitest'
import { appendSample, eventually, expectedRows, gate, readEverything } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `catchUp` group of the projection-store conformance suite. */
export function catchUpTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, sample, LOG_ID } = kit
  it('a new slot has no state; initialize stores position 0, version and log id; commits move the checkpoint', async () => {
    const t = env()
    const store = await t.openStore()
    const all = await sample(t.events(), 6)
    const slot = await store.openSlot(project('suite.direct', 'direct_rows'))
    expect(await slot.state()).toBeNull()
    await slot.initialize({ version: '1', logId: LOG_ID })
    const initial = await slot.state()
    expect(initial).toMatchObject({ position: 0, version: '1', logId: LOG_ID })
    expect(Number.isNaN(Date.parse(initial?.builtAt ?? ''))).toBe(false)
    await slot.commit({ from: 0, to: 3, events: all.slice(0, 3) })
    expect((await slot.state())?.position).toBe(3)
    expect(await t.rows(store, 'suite.direct', 'direct_rows')).toEqual(expectedRows('1', all.slice(0, 3)))
    // an empty batch still moves the checkpoint (a filtered projection reaching the head)
    await slot.commit({ from: 3, to: 6, events: [] })
    expect(await slot.state()).toMatchObject({
      position: 6,
      version: '1',
      logId: LOG_ID,
      builtAt: initial?.builtAt,
    })
    expect((await t.rows(store, 'suite.direct', 'direct_rows')).length).toBe(3)
  })

  it('a collector catches up in batches, filtered and unfiltered, and follows new appends', async () => {
    const t = env()
    const events = t.events()
    await appendSample(events, 230)
    const store = await t.store()
    const collector = t.collector({ events, store }, [
      project('suite.all', 'all_rows'),
      project('suite.issued', 'issued_rows', { eventTypes: ['Issued'] }),
    ])
    await collector.start()
    await collector.waitFor(230)
    let log = await readEverything(events)
    expect(await t.rows(store, 'suite.all', 'all_rows')).toEqual(expectedRows('1', log))
    expect(await t.rows(store, 'suite.issued', 'issued_rows')).toEqual(expectedRows('1', log, ['Issued']))
    await appendSample(events, 5, 231)
    await collector.waitFor(235)
    log = await readEverything(events)
    expect(await t.rows(store, 'suite.all', 'all_rows')).toEqual(expectedRows('1', log))
    expect(await t.rows(store, 'suite.issued', 'issued_rows')).toEqual(expectedRows('1', log, ['Issued']))
    await eventually(
      () => collector.status().every((s) => s.state === 'live' && s.position === 235 && s.lag === 0),
      'both projections live at 235',
    )
  })

  it('projections at the same position share one read per batch', async () => {
    const t = env()
    const events = gate(t.events())
    await appendSample(events, 200)
    const store = await t.store()
    const collector = t.collector({ events, store, batchSize: 50 }, [
      project('suite.one', 'one_rows'),
      project('suite.two', 'two_rows'),
      project('suite.three', 'three_rows', { eventTypes: ['Issued'] }),
    ])
    await collector.start()
    await collector.waitFor(200)
    // 200 events in batches of 50: 4 reads (plus at most one that finds nothing), not one per projection
    expect(events.reads.length).toBeLessThanOrEqual(5)
    expect(events.reads.every((read) => read.types === undefined)).toBe(true)
  })

  it('a filtered-only group asks the log for its types', async () => {
    const t = env()
    const events = gate(t.events())
    await appendSample(events, 60)
    const store = await t.store()
    const collector = t.collector({ events, store }, [
      project('suite.issued', 'issued_rows', { eventTypes: ['Issued'] }),
    ])
    await collector.start()
    await collector.waitFor(60)
    expect(events.reads.length).toBeGreaterThan(0)
    expect(events.reads.every((read) => JSON.stringify(read.types) === '["Issued"]')).toBe(true)
    expect((await t.rows(store, 'suite.issued', 'issued_rows')).length).toBe(20)
  })
}

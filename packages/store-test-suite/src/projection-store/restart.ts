import { expect, it } from 'vitest'
import { appendSample, createProbe, expectedRows, readEverything } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `restart` group of the projection-store conformance suite. */
export function restartTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, sample, LOG_ID } = kit
  it('state, rows and parked events survive closing and reopening the store', async () => {
    const t = env()
    const first = await t.openStore()
    const all = await sample(t.events(), 5)
    const projection = project('suite.durable', 'durable_rows')
    const slot = await first.openSlot(projection)
    await slot.initialize({ version: '1', logId: LOG_ID })
    await slot.commit({ from: 0, to: 5, events: all })
    const before = await slot.state()
    await first.close()
    const second = await t.openStore()
    const reopened = await second.openSlot(projection)
    expect(await reopened.state()).toEqual(before)
    expect(await t.rows(second, 'suite.durable', 'durable_rows')).toEqual(expectedRows('1', all))
  })

  it('a restarted collector resumes from the checkpoints without replaying', async () => {
    const t = env()
    const events = t.events()
    await appendSample(events, 120)
    const firstStore = await t.store()
    const first = t.collector({ events, store: firstStore }, [
      project('suite.resume', 'resume_rows'),
      project('suite.resume_issued', 'resume_issued_rows', { eventTypes: ['Issued'] }),
    ])
    await first.start()
    await first.waitFor(120)
    await first.stop()

    const probe = createProbe()
    const issuedProbe = createProbe()
    const store = await t.store()
    const second = t.collector({ events, store }, [
      project('suite.resume', 'resume_rows', { probe }),
      project('suite.resume_issued', 'resume_issued_rows', {
        eventTypes: ['Issued'],
        probe: issuedProbe,
      }),
    ])
    await second.start()
    // existing data is served at once: the positions are the stored ones, no rebuild
    expect(second.status().map((s) => [s.name, s.position, s.state === 'rebuilding'])).toEqual([
      ['suite.resume', 120, false],
      ['suite.resume_issued', 120, false],
    ])
    await second.waitFor(120)
    expect(probe.applied).toEqual([])
    await appendSample(events, 6, 121)
    await second.waitFor(126)
    expect(probe.applied).toEqual([121, 122, 123, 124, 125, 126])
    expect(issuedProbe.applied).toEqual([123, 126])
    const log = await readEverything(events)
    expect(await t.rows(store, 'suite.resume', 'resume_rows')).toEqual(expectedRows('1', log))
    expect(await t.rows(store, 'suite.resume_issued', 'resume_issued_rows')).toEqual(
      expectedRows('1', log, ['Issued']),
    )
  })
}

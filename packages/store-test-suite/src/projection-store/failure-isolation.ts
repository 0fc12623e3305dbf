import { type ErrorInfo, isEskitError, type StoredEvent } from '@eskit/core'
import { expect, it } from 'vitest'
import { appendSample, createProbe, eventually, expectedRows, readEverything } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `failureIsolation` group of the projection-store conformance suite. */
export function failureIsolationTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project } = kit
  const poisonAt = 17
  const arrange = async (
    policy: 'retry' | 'skip' | 'stop',
    throwing: (event: StoredEvent) => unknown,
    async = false,
  ) => {
    const t = env()
    const events = t.events()
    await appendSample(events, 40)
    const store = await t.store()
    const badProbe = createProbe()
    badProbe.throwOn = (event) => (event.position === poisonAt ? throwing(event) : undefined)
    badProbe.async = async
    const collector = t.collector({ events, store, onError: policy, batchSize: 10 }, [
      project('suite.good', 'good_rows'),
      project('suite.bad', 'bad_rows', { probe: badProbe }),
    ])
    const errors: ErrorInfo[] = []
    collector.on('error', (info) => errors.push(info))
    await collector.start()
    await collector.waitFor(40, { projections: ['suite.good'] })
    const bad = () => collector.status().find((s) => s.name === 'suite.bad')
    const good = () => collector.status().find((s) => s.name === 'suite.good')
    return { t, events, store, collector, errors, badProbe, bad, good }
  }

  const throwers: Array<[string, (event: StoredEvent) => unknown, string]> = [
    ['an Error', (event) => new Error(`bad event ${event.position}`), `bad event ${poisonAt}`],
    ['a string', () => 'not an error object', 'not an error object'],
  ]
  for (const [what, throwing, message] of throwers) {
    it(`'retry': the failing projection (${what}) reports failed with the position and retries; the other stays live`, async () => {
      const { t, events, store, collector, errors, badProbe, bad, good } = await arrange('retry', throwing)
      await eventually(() => (bad()?.error?.attempts ?? 0) >= 2, 'two failed attempts')
      expect(bad()).toMatchObject({ state: 'failed', position: poisonAt - 1 })
      expect(bad()?.error).toMatchObject({ message, position: poisonAt })
      expect(errors[0]).toMatchObject({
        name: 'suite.bad',
        position: poisonAt,
        attempts: 1,
        policy: 'retry',
      })
      expect(errors[0]?.error).toBeInstanceOf(Error)
      // events before the failing one are committed, nothing after it
      const log = await readEverything(events)
      expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
        expectedRows('1', log.slice(0, poisonAt - 1)),
      )
      // the other projection keeps going, live
      await appendSample(events, 3, 41)
      await collector.waitFor(43, { projections: ['suite.good'] })
      expect(good()).toMatchObject({ state: 'live', position: 43 })
      expect(await t.rows(store, 'suite.good', 'good_rows')).toEqual(
        expectedRows('1', await readEverything(events)),
      )
      // fixed: it recovers on the next retry, the error clears
      badProbe.throwOn = undefined
      await collector.waitFor(43)
      await eventually(() => bad()?.state === 'live', 'the fixed projection live')
      expect(bad()?.error).toBeUndefined()
      expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
        expectedRows('1', await readEverything(events)),
      )
    })
  }

  it("'retry' also isolates a projection whose apply rejects", async () => {
    const { t, events, store, collector, badProbe, bad } = await arrange(
      'retry',
      (event) => new Error(`rejected ${event.position}`),
      true,
    )
    await eventually(() => bad()?.state === 'failed', 'the failed state')
    expect(bad()?.error).toMatchObject({ message: `rejected ${poisonAt}`, position: poisonAt })
    badProbe.throwOn = undefined
    await collector.waitFor(40)
    expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
      expectedRows('1', await readEverything(events)),
    )
  })

  it("'skip': the failing event is parked and the projection carries on to the head", async () => {
    const { t, events, store, collector, errors, bad } = await arrange(
      'skip',
      (event) => new Error(`bad event ${event.position}`),
    )
    await collector.waitFor(40)
    expect(bad()).toMatchObject({ position: 40 })
    expect(bad()?.error).toBeUndefined()
    const log = await readEverything(events)
    expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
      expectedRows(
        '1',
        log.filter((event) => event.position !== poisonAt),
      ),
    )
    const parked = await collector.parked('suite.bad')
    expect(parked).toHaveLength(1)
    const poison = log[poisonAt - 1] as StoredEvent
    expect(parked[0]).toMatchObject({
      position: poisonAt,
      streamId: poison.streamId,
      type: poison.type,
      attempts: 1,
    })
    expect(parked[0]?.error).toContain(`bad event ${poisonAt}`)
    expect(parked[0]?.event).toMatchObject({ position: poisonAt, type: poison.type, data: poison.data })
    expect(Number.isNaN(Date.parse(parked[0]?.parkedAt ?? ''))).toBe(false)
    expect(await collector.parked('suite.good')).toEqual([])
    expect(errors).toEqual([
      expect.objectContaining({ name: 'suite.bad', position: poisonAt, policy: 'skip' }),
    ])
  })

  it("'stop': the projection halts, waitFor fails with FAILED at once, rebuild(name) brings it back", async () => {
    const { t, events, store, collector, badProbe, bad, good } = await arrange(
      'stop',
      (event) => new Error(`bad event ${event.position}`),
    )
    await eventually(() => bad()?.state === 'failed', 'the failed state')
    expect(bad()?.error).toMatchObject({ position: poisonAt, attempts: 1 })
    const failed = await collector.waitFor(40, { timeoutMs: 10_000 }).catch((e) => e)
    expect(isEskitError(failed, 'FAILED')).toBe(true)
    expect(failed.message).toContain('suite.bad')
    await appendSample(events, 2, 41)
    await collector.waitFor(42, { projections: ['suite.good'] })
    expect(good()?.state).toBe('live')
    expect(bad()).toMatchObject({ state: 'failed', position: poisonAt - 1 })
    badProbe.throwOn = undefined
    await collector.rebuild('suite.bad')
    await collector.waitFor(42)
    expect(bad()?.error).toBeUndefined()
    expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
      expectedRows('1', await readEverything(events)),
    )
  })
}

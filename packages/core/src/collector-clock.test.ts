import {
  createManualClock,
  eventually,
  faultyStore,
  type ManualClock,
  recordingLogger,
} from '@eskit/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { appendMany, type Control, rowsProjection } from '../test/helpers.js'
import { MAX_TIMER_MS, systemClock } from './clock.js'
import { createCollector } from './collector.js'
import type { Collector, CollectorConfig, ErrorInfo, ProgressInfo } from './collector-types.js'
import { EskitError, isEskitError } from './eskit-error.js'
import type { MemoryConnection } from './memory-connection.js'
import { createMemoryEventStore, createMemoryEventStoreState } from './memory-event-store.js'
import { createMemoryStoreState, memoryStore } from './memory-store.js'
import type { ProjectionStore } from './projection-store.js'

const running: Collector[] = []
afterEach(async () => {
  for (const collector of running.splice(0)) await collector.stop().catch(() => undefined)
})

function make(clock: ManualClock, config: Partial<CollectorConfig> = {}) {
  const events = config.events ?? createMemoryEventStore()
  const collector = createCollector({
    batchSize: 10,
    pollIntervalMs: 60_000,
    logger: recordingLogger(),
    store: memoryStore(),
    ...config,
    events,
    clock,
  })
  running.push(collector)
  return { collector, events }
}

const outcomeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (isEskitError(error) ? error.code : String(error)),
  )

describe('collector on an injected clock', () => {
  it('retries after the backoff, doubling per attempt up to the cap', async () => {
    const clock = createManualClock()
    const { collector, events } = make(clock, {
      onError: 'retry',
      retry: { initialDelayMs: 100, maxDelayMs: 400 },
    })
    const control: Control = {
      applied: [],
      throwOn: (e) => (e.position === 2 ? new Error('poison') : undefined),
    }
    collector.add(rowsProjection('bad', { control })).add(rowsProjection('good'))
    const errors: ErrorInfo[] = []
    collector.on('error', (info) => errors.push(info))
    await appendMany(events, 2)
    await collector.start()
    await eventually(() => errors.length === 1, 'the first failure')
    for (const [attempt, delay] of [
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 400],
    ] as const) {
      clock.advance(delay - 1)
      // an append wakes a pass: the good projection takes it, the bad one is still backing off
      const position = await appendMany(events, 1)
      await collector.waitFor(position, { projections: ['good'] })
      expect(errors).toHaveLength(attempt)
      clock.advance(1)
      await eventually(() => errors.length === attempt + 1, `attempt ${attempt + 1}`)
    }
    expect(errors.map((e) => [e.name, e.position, e.attempts])).toEqual([
      ['bad', 2, 1],
      ['bad', 2, 2],
      ['bad', 2, 3],
      ['bad', 2, 4],
      ['bad', 2, 5],
    ])
    control.throwOn = undefined
    clock.advance(400)
    await collector.waitFor(await events.head())
    expect(collector.status().map((s) => [s.name, s.state])).toEqual([
      ['bad', 'live'],
      ['good', 'live'],
    ])
  })

  it('waitFor times out exactly when its time has passed on the clock', async () => {
    const clock = createManualClock()
    const { collector } = make(clock)
    collector.add(rowsProjection('p'))
    await collector.start()
    let outcome: string | undefined
    const waiting = outcomeOf(collector.waitFor(1, { timeoutMs: 1000 })).then((code) => {
      outcome = code
    })
    clock.advance(999)
    await Promise.resolve()
    expect(outcome).toBeUndefined()
    clock.advance(1)
    await waiting
    expect(outcome).toBe('TIMEOUT')
  })

  it('the poll picks up appends made through another handle when its interval has passed', async () => {
    const clock = createManualClock()
    const state = createMemoryEventStoreState()
    const events = createMemoryEventStore({ state })
    const other = createMemoryEventStore({ state })
    const { collector } = make(clock, { events, pollIntervalMs: 500 })
    collector.add(rowsProjection('p'))
    await collector.start()
    await appendMany(other, 3)
    clock.advance(500)
    await collector.waitFor(3)
    expect(collector.status()[0]).toMatchObject({ position: 3, state: 'live' })
    // the next poll is due one interval later
    await appendMany(other, 1)
    clock.advance(500)
    await collector.waitFor(4)
  })

  it('progress is throttled by the clock: while time stands still, the first batch and the end only', async () => {
    const clock = createManualClock()
    const { collector, events } = make(clock)
    collector.add(rowsProjection('p'))
    await appendMany(events, 100)
    const progress: ProgressInfo[] = []
    collector.on('progress', (info) => progress.push(info))
    await collector.start()
    await collector.waitFor(100)
    await eventually(() => collector.status()[0]?.state === 'live', 'live')
    expect(progress.map((p) => [p.position, p.target, p.etaMs])).toEqual([
      [10, 100, 0],
      [100, 100, 0],
    ])
  })

  it('status publishes are throttled by the clock: changes within 250 ms go out once, when it has passed', async () => {
    const clock = createManualClock()
    const inner = memoryStore()
    const published: Array<Array<[string, number]>> = []
    const store: ProjectionStore<MemoryConnection> = {
      ...inner,
      open: (context) => inner.open(context),
      openSlot: (projection) => inner.openSlot(projection),
      reader: (name) => inner.reader(name),
      close: () => inner.close(),
      publishStatus: (status) => published.push(status.map((s) => [s.state, s.position])),
    }
    const { collector, events } = make(clock, { store })
    collector.add(rowsProjection('p'))
    await collector.start()
    expect(published).toEqual([[['live', 0]]])
    // three commits, no state change: each publish is throttled while the clock stands still
    for (let i = 0; i < 3; i++) await collector.waitFor(await appendMany(events, 1))
    expect(published).toHaveLength(1)
    clock.advance(249)
    expect(published).toHaveLength(1)
    clock.advance(1)
    expect(published).toEqual([[['live', 0]], [['live', 3]]])
  })

  it('a retry delay longer than a timer can hold waits the longest a timer can, not a moment less', async () => {
    const clock = createManualClock()
    const delay = MAX_TIMER_MS
    const { collector, events } = make(clock, {
      onError: 'retry',
      retry: { initialDelayMs: 3_000_000_000, maxDelayMs: Number.POSITIVE_INFINITY },
    })
    const control: Control = {
      applied: [],
      throwOn: (e) => (e.position === 1 ? new Error('poison') : undefined),
    }
    collector.add(rowsProjection('bad', { control })).add(rowsProjection('good'))
    await appendMany(events, 1)
    await collector.start()
    await eventually(() => collector.status()[0]?.state === 'failed', 'the first failure')
    expect(clock.delays).toContain(delay)
    clock.advance(delay - 1)
    const position = await appendMany(events, 1)
    await collector.waitFor(position, { projections: ['good'] })
    expect(control.applied).toEqual([1])
    control.throwOn = undefined
    clock.advance(1)
    await collector.waitFor(position)
    expect(control.applied).toEqual([1, 1, 2])
  })
})

describe('waitFor on data that is already there when it opens (no batch left to run)', () => {
  /** A store state whose projection `p` is current at position 5 of `events`. */
  async function builtTo5(clock: ManualClock) {
    const events = createMemoryEventStore()
    const state = createMemoryStoreState()
    await appendMany(events, 5)
    const { collector } = make(clock, { events, store: memoryStore({ state }) })
    collector.add(rowsProjection('p'))
    await collector.start()
    await collector.waitFor(5)
    await collector.stop()
    return { events, state }
  }

  it('a waitFor made before start() resolves when start opens the data at that position', async () => {
    const clock = createManualClock()
    const { events, state } = await builtTo5(clock)
    const { collector } = make(clock, { events, store: memoryStore({ state }) })
    collector.add(rowsProjection('p'))
    const waited = outcomeOf(collector.waitFor(5, { timeoutMs: 1000 }))
    await collector.start()
    expect(collector.status()[0]).toMatchObject({ state: 'live', position: 5 })
    // nothing is left to apply, so no batch would ever move the position and wake the waiter
    clock.advance(1000)
    expect(await waited).toBe('resolved')
  })

  it('a waitFor made while the open fails resolves when the retried open finds the data at that position', async () => {
    const clock = createManualClock()
    const { events, state } = await builtTo5(clock)
    let failing = true
    const store = faultyStore(memoryStore({ state }), {
      openSlot: () => (failing ? new EskitError('IO', 'cannot open') : undefined),
    })
    const { collector } = make(clock, { events, store, retry: { initialDelayMs: 100, maxDelayMs: 100 } })
    collector.add(rowsProjection('p'))
    await collector.start()
    expect(collector.status()[0]).toMatchObject({ state: 'failed', position: 0 })
    const waited = outcomeOf(collector.waitFor(5, { timeoutMs: 1000 }))
    failing = false
    clock.advance(100)
    await eventually(() => collector.status()[0]?.state === 'live', 'the retried open')
    clock.advance(900)
    expect(await waited).toBe('resolved')
  })
})

describe('systemClock', () => {
  it("holds a delay beyond a timer's range at the longest a timer can wait instead of firing at once", () => {
    const handle = systemClock.setTimeout(() => {}, 3_000_000_000)
    try {
      expect((handle as { _idleTimeout?: number })._idleTimeout).toBe(MAX_TIMER_MS)
    } finally {
      systemClock.clearTimeout(handle)
    }
  })

  it('tells the time in milliseconds since the epoch', () => {
    const before = Date.now()
    const now = systemClock.now()
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(Date.now())
  })
})

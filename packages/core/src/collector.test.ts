import { eventually, faultyStore, type RecordingLogger, recordingLogger } from '@eskit/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import {
  appendMany,
  type Control,
  deferred,
  positionsOf,
  range,
  recording,
  rowsProjection,
} from '../test/helpers.js'
import { createCollector } from './collector.js'
import type { Collector, CollectorConfig, ErrorInfo, ProgressInfo, RebuiltInfo } from './collector-types.js'
import { EskitError, isEskitError } from './eskit-error.js'
import type { EventStore } from './event-store.js'
import type { MemoryConnection } from './memory-connection.js'
import { createMemoryEventStore, createMemoryEventStoreState } from './memory-event-store.js'
import { createMemoryStoreState, type MemoryStore, memoryStore } from './memory-store.js'
import type { ProjectionStore } from './projection-store.js'

const running: Collector[] = []
afterEach(async () => {
  for (const collector of running.splice(0)) await collector.stop().catch(() => undefined)
})

function make(
  config: Partial<CollectorConfig> & { events?: EventStore; store?: ProjectionStore<any> } = {},
): { collector: Collector; events: EventStore; store: ProjectionStore<any>; logger: RecordingLogger } {
  const events = config.events ?? createMemoryEventStore()
  const store = config.store ?? memoryStore()
  const logger = recordingLogger()
  const collector = createCollector({
    batchSize: 10,
    pollIntervalMs: 20,
    retry: { initialDelayMs: 2, maxDelayMs: 20 },
    logger,
    ...config,
    events,
    store,
  })
  running.push(collector)
  return { collector, events, store, logger }
}

const statusOf = (collector: Collector, name: string) => collector.status().find((s) => s.name === name)
const rows = (collector: Collector, name: string) => positionsOf(collector.reader<MemoryConnection>(name))
const codeOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (isEskitError(error) ? error.code : `not an EskitError: ${String(error)}`),
  )
const codeOfCall = (call: () => unknown) => {
  try {
    call()
    return 'returned'
  } catch (error) {
    return isEskitError(error) ? error.code : `not an EskitError: ${String(error)}`
  }
}

describe('createCollector: configuration', () => {
  it('refuses a missing or invalid config with INVALID_ARGUMENT', () => {
    const events = createMemoryEventStore()
    const store = memoryStore()
    const bad: unknown[] = [
      undefined,
      {},
      { events },
      { store },
      { events: {}, store },
      { events, store: {} },
      { events, store, batchSize: 0 },
      { events, store, batchSize: 1.5 },
      { events, store, batchSize: 100_001 },
      { events, store, onError: 'ignore' },
      { events, store, pollIntervalMs: 0 },
      { events, store, retry: { initialDelayMs: -1 } },
      { events, store, retry: { initialDelayMs: 100, maxDelayMs: 10 } },
      { events, store, logger: { info() {} } },
      { events, store, buildWorkers: -1 },
      { events, store, buildWorkers: 1.5 },
      { events, store, buildWorkers: 65 },
    ]
    for (const config of bad) {
      expect(codeOfCall(() => createCollector(config as CollectorConfig))).toBe('INVALID_ARGUMENT')
    }
    expect(codeOfCall(() => createCollector({ events, store, batchSize: 100_000 }))).toBe('returned')
    // 0: no worker threads, every build on the main thread
    expect(codeOfCall(() => createCollector({ events, store, buildWorkers: 0 }))).toBe('returned')
  })
})

describe('add', () => {
  it('validates the projection and returns the collector for chaining', () => {
    const { collector } = make()
    expect(collector.add(rowsProjection('a.one')).add(rowsProjection('a.two'))).toBe(collector)
    for (const name of ['../x', 'a/b', '', '.hidden', 'x'.repeat(129)]) {
      expect(codeOfCall(() => collector.add(rowsProjection(name)))).toBe('INVALID_NAME')
    }
    expect(codeOfCall(() => collector.add(rowsProjection('a.one')))).toBe('DUPLICATE_NAME')
    const base = rowsProjection('a.three')
    const invalid: unknown[] = [
      null,
      { ...base, version: '' },
      { ...base, version: 2 },
      { ...base, setup: undefined },
      { ...base, apply: 'nope' },
      { ...base, eventTypes: 'A' },
      { ...base, eventTypes: ['A', ''] },
      { ...base, eventTypes: [1] },
    ]
    for (const projection of invalid) {
      expect(codeOfCall(() => collector.add(projection as never))).toBe('INVALID_ARGUMENT')
    }
    expect(collector.status().map((s) => s.name)).toEqual(['a.one', 'a.two'])
  })

  it('is INVALID_STATE after start and CLOSED after stop', async () => {
    const { collector } = make()
    await collector.start()
    expect(codeOfCall(() => collector.add(rowsProjection('late')))).toBe('INVALID_STATE')
    await collector.stop()
    expect(codeOfCall(() => collector.add(rowsProjection('later')))).toBe('CLOSED')
  })
})

describe('lifecycle and states', () => {
  it("reports 'starting' before start and 'live' for a new projection on an empty log", async () => {
    const { collector } = make()
    collector.add(rowsProjection('p'))
    expect(collector.status()).toEqual([
      { name: 'p', version: '1', state: 'starting', position: 0, head: 0, lag: 0 },
    ])
    await collector.start()
    expect(statusOf(collector, 'p')).toMatchObject({ state: 'live', position: 0 })
  })

  it("a new projection on a non-empty log is 'rebuilding' in place, then 'live' with every event", async () => {
    const { collector, events } = make()
    await appendMany(events, 35)
    collector.add(rowsProjection('p'))
    const rebuilt: RebuiltInfo[] = []
    collector.on('rebuilt', (info) => rebuilt.push(info))
    await collector.start()
    expect(statusOf(collector, 'p')).toMatchObject({
      state: 'rebuilding',
      position: 0,
      head: 35,
      lag: 35,
      rebuild: { position: 0, target: 35 },
    })
    await collector.waitFor(35)
    await eventually(() => rebuilt.length === 1, 'rebuilt')
    expect(rebuilt[0]).toMatchObject({ name: 'p', version: '1', position: 35, swapped: false })
    expect(statusOf(collector, 'p')).toEqual({
      name: 'p',
      version: '1',
      state: 'live',
      position: 35,
      head: 35,
      lag: 0,
      lastRebuild: { at: expect.any(String), durationMs: rebuilt[0]?.durationMs },
    })
    const at = Date.parse(statusOf(collector, 'p')?.lastRebuild?.at ?? '')
    expect(Math.abs(Date.now() - at)).toBeLessThan(60_000)
    expect(rows(collector, 'p')).toEqual(range(1, 35))
  })

  it("an existing projection behind the head is 'catching-up', then 'live'", async () => {
    const events = createMemoryEventStore()
    const state = createMemoryStoreState()
    await appendMany(events, 5)
    const first = make({ events, store: memoryStore({ state }) }).collector.add(rowsProjection('p'))
    await first.start()
    await first.waitFor(5)
    await first.stop()
    await appendMany(events, 50)
    const hold = deferred()
    const control: Control = { applied: [], hold: hold.promise }
    const { collector } = make({ events, store: memoryStore({ state }) })
    collector.add(rowsProjection('p', { control }))
    await collector.start()
    expect(statusOf(collector, 'p')).toMatchObject({ state: 'catching-up', position: 5, lag: 50 })
    hold.resolve()
    await collector.waitFor(55)
    await eventually(() => statusOf(collector, 'p')?.state === 'live', 'live')
    expect(control.applied).toEqual(range(6, 55))
    expect(rows(collector, 'p')).toEqual(range(1, 55))
  })

  it('start() trusts files the previous owner moved past the head it read before claiming the store', async () => {
    const events = createMemoryEventStore()
    const state = createMemoryStoreState()
    await appendMany(events, 30)
    const first = make({ events, store: memoryStore({ state }) }).collector.add(rowsProjection('p'))
    await first.start()
    await first.waitFor(30)
    await first.stop()
    // the head as read before the claim, while the previous owner still applied events 11–30
    let heads = 0
    const handedOver: EventStore = {
      ...events,
      head: () => (heads++ === 0 ? Promise.resolve(10) : events.head()),
    }
    const { collector, logger } = make({ events: handedOver, store: memoryStore({ state }) })
    collector.add(rowsProjection('p'))
    await collector.start()
    expect(statusOf(collector, 'p')).toMatchObject({ state: 'live', position: 30 })
    expect(rows(collector, 'p')).toEqual(range(1, 30))
    expect(logger.lines.filter((line) => line.message === 'projection needs a rebuild')).toEqual([])
  })

  it('start twice is INVALID_STATE; start after stop is CLOSED; stop is idempotent', async () => {
    const { collector } = make()
    await collector.start()
    expect(await codeOf(collector.start())).toBe('INVALID_STATE')
    const one = collector.stop()
    expect(collector.stop()).toBe(one)
    await one
    expect(await codeOf(collector.start())).toBe('CLOSED')
  })

  it('stop before start resolves and leaves the store untouched', async () => {
    const store = memoryStore()
    const { collector } = make({ store })
    await collector.stop()
    expect(store.state.owner).toBeUndefined()
    expect(await codeOf(collector.start())).toBe('CLOSED')
  })

  it('start rejects with LOCKED when the store is owned elsewhere, and nothing is opened', async () => {
    const state = createMemoryStoreState()
    const owner = memoryStore({ state })
    await owner.open({ logId: 'x', logger: recordingLogger() })
    const openSlots: string[] = []
    const store = faultyStore(memoryStore({ state }), {
      openSlot: (name) => {
        openSlots.push(name)
        return undefined
      },
    })
    const { collector } = make({ store })
    collector.add(rowsProjection('p'))
    expect(await codeOf(collector.start())).toBe('LOCKED')
    expect(openSlots).toEqual([])
    await owner.close()
    await collector.start()
    expect(statusOf(collector, 'p')?.state).toBe('live')
  })

  it('start rejects with UNAVAILABLE while the log cannot be read, and can be called again once it answers', async () => {
    const inner = createMemoryEventStore()
    await appendMany(inner, 3)
    let down = true
    const events: EventStore = {
      id: inner.id,
      append: (streamId, batch, options) => inner.append(streamId, batch, options),
      readAll: (options) => inner.readAll(options),
      readStream: (streamId) => inner.readStream(streamId),
      head: async () => {
        if (down) throw new EskitError('UNAVAILABLE', 'log server down')
        return inner.head()
      },
      onAppend: (listener) => inner.onAppend(listener),
      close: () => inner.close(),
    }
    const state = createMemoryStoreState()
    const { collector } = make({ events, store: memoryStore({ state }) })
    collector.add(rowsProjection('p'))
    expect(await codeOf(collector.start())).toBe('UNAVAILABLE')
    // nothing was claimed: another process may take the directory meanwhile
    expect(state.owner).toBeUndefined()
    down = false
    await collector.start()
    await collector.waitFor(3)
    expect(rows(collector, 'p')).toEqual([1, 2, 3])
  })

  it('after stop: states are stopped, every call is CLOSED, the store is closed and the log is not', async () => {
    const { collector, events, store } = make()
    collector.add(rowsProjection('p'))
    await collector.start()
    await appendMany(events, 3)
    await collector.waitFor(3)
    await collector.stop()
    expect(collector.status()).toEqual([
      { name: 'p', version: '1', state: 'stopped', position: 3, head: 3, lag: 0 },
    ])
    expect(await codeOf(collector.waitFor(1))).toBe('CLOSED')
    expect(await codeOf(collector.rebuild('p'))).toBe('CLOSED')
    expect(await codeOf(collector.parked('p'))).toBe('CLOSED')
    expect(codeOfCall(() => collector.reader('p'))).toBe('CLOSED')
    expect((store as MemoryStore).state.owner).toBeUndefined()
    expect((store as MemoryStore).state.status.map((s) => s.state)).toEqual(['stopped'])
    expect(await events.head()).toBe(3)
  })

  it('stop lets the batch in flight commit and writes nothing afterwards', async () => {
    const { collector, events } = make()
    const hold = deferred()
    const control: Control = { applied: [] }
    collector.add(rowsProjection('p', { control }))
    await collector.start()
    control.hold = hold.promise
    await events.append(
      's',
      [1, 2, 3, 4].map((n) => ({ type: 'A', data: { n } })),
    )
    await eventually(() => control.applied.length > 0, 'the batch in flight')
    const stopping = collector.stop()
    await appendMany(events, 3)
    hold.resolve()
    await stopping
    expect(collector.status()[0]).toMatchObject({ state: 'stopped', position: 4 })
    expect(control.applied).toEqual(range(1, 4))
    expect(positionsOf(collector.store.reader('p') as MemoryConnection)).toEqual(range(1, 4))
  })
})

describe('live', () => {
  it('an append wakes the collector at once, without waiting for the poll', async () => {
    const { collector, events } = make({ pollIntervalMs: 600_000 })
    collector.add(rowsProjection('p'))
    await collector.start()
    for (let i = 1; i <= 20; i++) {
      const { position } = await events.append('s', [{ type: 'A', data: { i } }])
      await collector.waitFor(position, { timeoutMs: 5000 })
      expect(rows(collector, 'p').at(-1)).toBe(position)
    }
  })

  it('the slow poll picks up appends made through another handle on the log', async () => {
    const state = createMemoryEventStoreState()
    const events = createMemoryEventStore({ state })
    const other = createMemoryEventStore({ state })
    const { collector } = make({ events, pollIntervalMs: 5 })
    collector.add(rowsProjection('p'))
    await collector.start()
    await appendMany(other, 3)
    await collector.waitFor(3)
    expect(rows(collector, 'p')).toEqual([1, 2, 3])
  })

  it('reads once per batch for projections at the same position, with the union of their types', async () => {
    const events = recording(createMemoryEventStore())
    await appendMany(events, 30)
    const { collector } = make({ events, batchSize: 100 })
    collector.add(rowsProjection('a', { eventTypes: ['A'] })).add(rowsProjection('b', { eventTypes: ['B'] }))
    await collector.start()
    await collector.waitFor(30)
    expect(events.reads).toHaveLength(1)
    expect([...(events.reads[0]?.types ?? [])].sort()).toEqual(['A', 'B'])
    expect(rows(collector, 'a')).toEqual(range(1, 30).filter((p) => p % 3 === 1))
    expect(rows(collector, 'b')).toEqual(range(1, 30).filter((p) => p % 3 === 2))
    // a filtered projection's checkpoint still reaches the head
    expect(collector.status().map((s) => s.position)).toEqual([30, 30])
  })

  it('a group behind stops at the next group up, so the two merge and share reads', async () => {
    const events = recording(createMemoryEventStore())
    const state = createMemoryStoreState()
    await appendMany(events, 5)
    const first = make({ events, store: memoryStore({ state }) }).collector.add(rowsProjection('q'))
    await first.start()
    await first.waitFor(5)
    await first.stop()
    await appendMany(events, 25)
    events.reads.length = 0
    const { collector } = make({ events, store: memoryStore({ state }), batchSize: 10 })
    collector.add(rowsProjection('p')).add(rowsProjection('q'))
    await collector.start()
    await collector.waitFor(30)
    expect(events.reads.map((read) => read.after)).toEqual([0, 5, 15, 25])
    expect(rows(collector, 'p')).toEqual(range(1, 30))
    expect(rows(collector, 'q')).toEqual(range(1, 30))
  })

  it('reads the next batch while a full one is applied, and never reads past a short one', async () => {
    const recorded = recording(createMemoryEventStore())
    // a log with readPage is read ahead (a log without it is read on demand)
    const events: EventStore & { reads: typeof recorded.reads } = {
      ...recorded,
      async readPage(options) {
        const head = await recorded.head()
        return { head, events: await recorded.readAll(options) }
      },
    }
    await appendMany(events, 25)
    const readsSeenByApply: number[][] = []
    const { collector } = make({ events, batchSize: 10 })
    collector.add({
      name: 'p',
      version: '1',
      setup(conn: MemoryConnection) {
        conn.createTable('rows')
      },
      async apply(batch, conn: MemoryConnection) {
        // one turn of the event loop: a read started before apply has reached the log by now
        await new Promise((resolve) => setImmediate(resolve))
        readsSeenByApply.push(events.reads.map((read) => read.after))
        for (const event of batch) conn.table('rows').set(event.position, { position: event.position })
      },
    })
    await collector.start()
    await collector.waitFor(25)
    expect(readsSeenByApply).toEqual([
      [0, 10],
      [0, 10, 20],
      [0, 10, 20],
    ])
    expect(rows(collector, 'p')).toEqual(range(1, 25))
  })

  it('a rebuild whose log answers an older head is done only once it is not behind the live data', async () => {
    const recorded = recording(createMemoryEventStore())
    await appendMany(recorded, 30)
    // a legal log: readPage may answer a head read earlier than the page (here: frozen at 10)
    let frozenHead: number | null = null
    const events: EventStore = {
      ...recorded,
      async readPage(options) {
        const head = await recorded.head()
        return { head: Math.min(head, frozenHead ?? head), events: await recorded.readAll(options) }
      },
    }
    const { collector } = make({ events, batchSize: 10 })
    collector.add(rowsProjection('p'))
    await collector.start()
    await collector.waitFor(30)
    frozenHead = 10
    await collector.rebuild('p')
    // the live data was at 30: the build replaces it only at 30 or later, never with 10 rows
    expect(rows(collector, 'p')).toEqual(range(1, 30))
    expect(collector.status().find((s) => s.name === 'p')?.position).toBe(30)
  })

  it('reads everything once when one projection of the group wants every type', async () => {
    const events = recording(createMemoryEventStore())
    await appendMany(events, 12)
    const { collector } = make({ events, batchSize: 100 })
    collector.add(rowsProjection('all')).add(rowsProjection('c', { eventTypes: ['C'] }))
    await collector.start()
    await collector.waitFor(12)
    expect(events.reads).toEqual([{ after: 0, limit: 100 }])
    expect(rows(collector, 'c')).toEqual([3, 6, 9, 12])
  })
})

describe('failures', () => {
  it("'retry': backs off with growing attempts, reports each, and recovers when the fault goes", async () => {
    const { collector, events, logger } = make({ onError: 'retry' })
    const control: Control = {
      applied: [],
      throwOn: (e) => (e.position === 7 ? new Error('poison 7') : undefined),
    }
    collector.add(rowsProjection('bad', { control })).add(rowsProjection('good'))
    const errors: ErrorInfo[] = []
    collector.on('error', (info) => errors.push(info))
    await appendMany(events, 12)
    await collector.start()
    await collector.waitFor(12, { projections: ['good'] })
    await eventually(() => errors.length >= 3, 'three attempts')
    expect(
      errors.slice(0, 3).map((e) => [e.name, e.position, e.attempts, e.policy, e.error.message]),
    ).toEqual([
      ['bad', 7, 1, 'retry', 'apply of bad failed: poison 7'],
      ['bad', 7, 2, 'retry', 'apply of bad failed: poison 7'],
      ['bad', 7, 3, 'retry', 'apply of bad failed: poison 7'],
    ])
    expect(statusOf(collector, 'bad')).toMatchObject({
      state: 'failed',
      position: 6,
      lag: 6,
      error: { message: 'poison 7', position: 7 },
    })
    expect(rows(collector, 'bad')).toEqual(range(1, 6))
    expect(logger.has('error', 'projection failed')).toBe(true)
    control.throwOn = undefined
    await collector.waitFor(12)
    await eventually(() => statusOf(collector, 'bad')?.state === 'live', 'recovered')
    expect(statusOf(collector, 'bad')?.error).toBeUndefined()
    expect(rows(collector, 'bad')).toEqual(range(1, 12))
    expect(logger.has('info', 'projection recovered')).toBe(true)
  })

  it("'skip': parks each failing event in order and carries on", async () => {
    const { collector, events } = make({ onError: 'skip' })
    const control: Control = {
      applied: [],
      throwOn: (e) => (e.position === 4 || e.position === 9 ? { reason: `bad ${e.position}` } : undefined),
    }
    collector.add(rowsProjection('p', { control }))
    await appendMany(events, 12)
    await collector.start()
    await collector.waitFor(12)
    expect(rows(collector, 'p')).toEqual(range(1, 12).filter((p) => p !== 4 && p !== 9))
    const parked = await collector.parked('p')
    expect(parked.map((p) => [p.position, p.error, p.attempts])).toEqual([
      [4, '{"reason":"bad 4"}', 1],
      [9, '{"reason":"bad 9"}', 1],
    ])
    expect(statusOf(collector, 'p')).toMatchObject({ state: 'live', position: 12 })
  })

  it("'stop': halts; waitFor is FAILED at once; a rebuild that fails again rejects FAILED; a fixed one recovers", async () => {
    const { collector, events } = make({ onError: 'stop' })
    const control: Control = {
      applied: [],
      throwOn: (e) => (e.position === 3 ? new Error('three') : undefined),
    }
    collector.add(rowsProjection('p', { control })).add(rowsProjection('q'))
    await appendMany(events, 5)
    await collector.start()
    const waiting = collector.waitFor(5, { projections: ['p'], timeoutMs: 60_000 })
    expect(await codeOf(waiting)).toBe('FAILED')
    expect(await codeOf(collector.waitFor(5))).toBe('FAILED')
    expect(statusOf(collector, 'p')).toMatchObject({
      state: 'failed',
      position: 2,
      error: { position: 3, attempts: 1 },
    })
    const applied = control.applied.length
    await appendMany(events, 2)
    await collector.waitFor(7, { projections: ['q'] })
    expect(control.applied.length).toBe(applied)
    expect(await codeOf(collector.rebuild('p'))).toBe('FAILED')
    control.throwOn = undefined
    await collector.rebuild('p')
    await collector.waitFor(7)
    expect(rows(collector, 'p')).toEqual(range(1, 7))
  })

  it('store errors are never skipped: failed with retry, even with onError skip', async () => {
    let diskFull = true
    const store = faultyStore(memoryStore(), {
      commit: (name) => (name === 'p' && diskFull ? new EskitError('DISK_FULL', 'disk full') : undefined),
    })
    const { collector, events } = make({ store, onError: 'skip' })
    const errors: ErrorInfo[] = []
    collector.on('error', (info) => errors.push(info))
    collector.add(rowsProjection('p')).add(rowsProjection('q'))
    await appendMany(events, 4)
    await collector.start()
    await collector.waitFor(4, { projections: ['q'] })
    await eventually(() => errors.length >= 2, 'two attempts')
    expect(statusOf(collector, 'p')).toMatchObject({
      state: 'failed',
      position: 0,
      error: { message: 'disk full' },
    })
    expect(errors[0]).toMatchObject({ name: 'p', policy: 'retry', attempts: 1 })
    expect(await collector.parked('p')).toEqual([])
    diskFull = false
    await collector.waitFor(4)
    expect(rows(collector, 'p')).toEqual(range(1, 4))
  })

  it('a projection whose open fails is failed and retried; start resolves and the others run', async () => {
    let failures = 2
    const store = faultyStore(memoryStore(), {
      openSlot: (name) => (name === 'p' && failures-- > 0 ? new EskitError('IO', 'cannot open') : undefined),
    })
    // a retry delay longer than start() takes on a loaded machine, so the first failure is seen
    const { collector, events } = make({ store, retry: { initialDelayMs: 300, maxDelayMs: 300 } })
    collector.add(rowsProjection('p')).add(rowsProjection('q'))
    await appendMany(events, 3)
    await collector.start()
    expect(statusOf(collector, 'p')).toMatchObject({
      state: 'failed',
      error: { message: 'cannot open', attempts: 1 },
    })
    expect(statusOf(collector, 'q')?.state).toBe('rebuilding')
    await collector.waitFor(3)
    expect(rows(collector, 'p')).toEqual([1, 2, 3])
    expect(statusOf(collector, 'p')?.error).toBeUndefined()
  })

  it("a setup that throws with onError 'stop' halts the projection", async () => {
    const control: Control = { applied: [], setupThrows: new Error('bad schema') }
    const { collector } = make({ onError: 'stop' })
    collector.add(rowsProjection('p', { control }))
    await collector.start()
    expect(statusOf(collector, 'p')).toMatchObject({ state: 'failed', error: { message: 'bad schema' } })
    expect(await codeOf(collector.waitFor(0))).toBe('FAILED')
  })

  it('a checkpoint conflict continues from the stored checkpoint, with a warning', async () => {
    const store = memoryStore()
    const { collector, events, logger } = make({ store })
    collector.add(rowsProjection('p'))
    await appendMany(events, 2)
    await collector.start()
    await collector.waitFor(2)
    // someone else moved the checkpoint to 4: events 3 and 4 are theirs
    const data = store.state.projections.get('p')
    if (!data?.state) throw new Error('no data')
    data.state = { ...data.state, position: 4 }
    await appendMany(events, 3)
    await collector.waitFor(5)
    expect(rows(collector, 'p')).toEqual([1, 2, 5])
    expect(logger.has('warn', 'checkpoint conflict')).toBe(true)
  })

  it('a conflict although the checkpoint did not move is a store fault, retried with backoff', async () => {
    let conflicts = true
    const store = faultyStore(memoryStore(), {
      commit: () => (conflicts ? new EskitError('CHECKPOINT_CONFLICT', 'odd conflict') : undefined),
    })
    // delays long enough that a loaded machine still observes the second attempt before a third
    const { collector, events } = make({ store, retry: { initialDelayMs: 100, maxDelayMs: 1000 } })
    const errors: ErrorInfo[] = []
    collector.on('error', (info) => errors.push(info))
    collector.add(rowsProjection('p'))
    await appendMany(events, 2)
    await collector.start()
    await eventually(() => errors.length >= 2, 'two attempts')
    expect(statusOf(collector, 'p')).toMatchObject({
      state: 'failed',
      error: { message: 'odd conflict', attempts: 2 },
    })
    conflicts = false
    await collector.waitFor(2)
    expect(rows(collector, 'p')).toEqual([1, 2])
  })

  it('rebuild(name) of a projection that could not open yet opens it and resolves when built', async () => {
    let failing = true
    const store = faultyStore(memoryStore(), {
      openSlot: () => (failing ? new EskitError('IO', 'cannot open') : undefined),
    })
    const { collector, events } = make({ store, retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 } })
    collector.add(rowsProjection('p'))
    await appendMany(events, 3)
    await collector.start()
    expect(statusOf(collector, 'p')?.state).toBe('failed')
    failing = false
    await collector.rebuild('p')
    expect(rows(collector, 'p')).toEqual([1, 2, 3])
    expect(statusOf(collector, 'p')).toMatchObject({ state: 'live', position: 3 })
  })

  it('rebuild(name) of a projection that could not open yet resolves on an empty log too', async () => {
    let failing = true
    const store = faultyStore(memoryStore(), {
      openSlot: () => (failing ? new EskitError('IO', 'cannot open') : undefined),
    })
    const { collector } = make({ store, retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 } })
    collector.add(rowsProjection('p'))
    await collector.start()
    expect(statusOf(collector, 'p')?.state).toBe('failed')
    failing = false
    const rebuilding = collector.rebuild('p')
    await eventually(() => statusOf(collector, 'p')?.state === 'live', { what: 'opened', timeoutMs: 2000 })
    expect(
      await Promise.race([rebuilding.then(() => 'resolved'), collector.waitFor(0).then(() => 'pending')]),
    ).toBe('resolved')
    expect(rows(collector, 'p')).toEqual([])
  })

  it('lost data is rebuilt in place from an empty slot', async () => {
    const inner = memoryStore()
    const store = faultyStore(inner, { check: (name) => (inner.state.projections.has(name) ? 'ok' : 'lost') })
    const { collector, events, logger } = make({ store })
    collector.add(rowsProjection('p')).add(rowsProjection('q'))
    await appendMany(events, 6)
    await collector.start()
    await collector.waitFor(6)
    inner.state.projections.delete('p')
    await appendMany(events, 1)
    await collector.waitFor(7)
    await eventually(() => rows(collector, 'p').length === 7, 'rebuilt rows')
    expect(rows(collector, 'p')).toEqual(range(1, 7))
    expect(logger.has('warn', 'projection data was lost')).toBe(true)
  })

  it('an event log that fails to answer is logged and retried; the collector carries on', async () => {
    const inner = createMemoryEventStore()
    let broken = 0
    const events: EventStore = {
      id: inner.id,
      append: (streamId, batch, options) => inner.append(streamId, batch, options),
      readAll: (options) => inner.readAll(options),
      readStream: (streamId) => inner.readStream(streamId),
      head: async () => {
        if (broken > 0) {
          broken -= 1
          throw new EskitError('BUSY', 'log busy')
        }
        return inner.head()
      },
      onAppend: (listener) => inner.onAppend(listener),
      close: () => inner.close(),
    }
    const { collector, logger } = make({ events })
    collector.add(rowsProjection('p'))
    await collector.start()
    broken = 3
    await appendMany(inner, 4)
    await collector.waitFor(4)
    expect(rows(collector, 'p')).toEqual([1, 2, 3, 4])
    // logged once when the log became unreachable, then quietly until it answered again
    expect(
      logger.lines.filter((line) => line.message === 'collector could not read the event log').length,
    ).toBe(1)
    expect(logger.lines.filter((line) => line.message === 'event log still unreachable').length).toBe(2)
    await eventually(() => logger.has('info', 'event log reachable again'), 'the recovery logged')
  })

  it('status shows the log unreachable (since when, why) while projections keep serving; it clears when reads work again', async () => {
    const inner = createMemoryEventStore()
    let down = false
    const unavailable = () => new EskitError('UNAVAILABLE', 'log server down')
    const events: EventStore = {
      id: inner.id,
      append: (streamId, batch, options) => inner.append(streamId, batch, options),
      readAll: async (options) => {
        if (down) throw unavailable()
        return inner.readAll(options)
      },
      readStream: (streamId) => inner.readStream(streamId),
      head: async () => {
        if (down) throw unavailable()
        return inner.head()
      },
      onAppend: (listener) => inner.onAppend(listener),
      close: () => inner.close(),
    }
    const { collector } = make({ events, retry: { initialDelayMs: 1, maxDelayMs: 5 } })
    collector.add(rowsProjection('p'))
    await appendMany(inner, 2)
    await collector.start()
    await collector.waitFor(2)
    const before = Date.now()
    down = true
    await appendMany(inner, 2)
    await eventually(
      () => collector.status()[0]?.logUnreachable !== undefined,
      'the log reported unreachable',
    )
    const status = collector.status()[0]
    expect(status?.logUnreachable).toMatchObject({ error: 'log server down', code: 'UNAVAILABLE' })
    expect(status?.logUnreachable?.since).toBeGreaterThanOrEqual(before)
    expect(status?.logUnreachable?.attempts).toBeGreaterThanOrEqual(1)
    // the data already there keeps serving
    expect(rows(collector, 'p')).toEqual([1, 2])
    expect(status?.state).toBe('live')
    down = false
    await collector.waitFor(4)
    expect(rows(collector, 'p')).toEqual([1, 2, 3, 4])
    await eventually(() => collector.status()[0]?.logUnreachable === undefined, 'the status cleared')
    await collector.stop()
  })

  it('a swap that fails is retried; the old data serves meanwhile', async () => {
    const inner = memoryStore()
    let swapFailures = 1
    const store = faultyStore(inner, {
      swap: () => (swapFailures-- > 0 ? new EskitError('IO', 'swap failed') : undefined),
    })
    const events = createMemoryEventStore()
    const state = inner.state
    await appendMany(events, 6)
    const first = make({ events, store: memoryStore({ state }) }).collector.add(rowsProjection('p'))
    await first.start()
    await first.waitFor(6)
    await first.stop()
    const { collector } = make({ events, store })
    collector.add(rowsProjection('p', { version: '2' }))
    const errors: ErrorInfo[] = []
    const rebuilt: RebuiltInfo[] = []
    collector.on('error', (info) => errors.push(info))
    collector.on('rebuilt', (info) => rebuilt.push(info))
    await collector.start()
    await eventually(() => rebuilt.length === 1, 'the swap')
    expect(errors.map((e) => e.error.message)).toEqual(['swap failed'])
    expect(rebuilt[0]).toMatchObject({ version: '2', swapped: true, position: 6 })
    expect(state.projections.get('p')?.state).toMatchObject({ version: '2', position: 6 })
  })

  it('a swap that replaced the data but then failed: rebuild() still resolves, with the rebuilt data', async () => {
    // the replaced live slot then reports itself lost, as a closed sqliteStore slot does
    const inner = memoryStore({ detectsLoss: true })
    let failAfterSwap = false
    // e.g. the new file is in place but could not be reopened
    const store = faultyStore(inner, {
      afterSwap: () => {
        if (!failAfterSwap) return undefined
        failAfterSwap = false
        return new EskitError('IO', 'swapped in but could not reopen')
      },
    })
    const { collector, events } = make({ store })
    collector.add(rowsProjection('p'))
    await appendMany(events, 6)
    await collector.start()
    await eventually(() => statusOf(collector, 'p')?.state === 'live', 'the first build')
    failAfterSwap = true
    const rebuilding = collector.rebuild('p')
    let timer: ReturnType<typeof setTimeout> | undefined
    const hung = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('rebuild() never resolved')), 3000)
    })
    try {
      await Promise.race([rebuilding, hung])
    } finally {
      clearTimeout(timer)
    }
    expect(rows(collector, 'p')).toEqual(range(1, 6))
    expect(statusOf(collector, 'p')).toMatchObject({ state: 'live', position: 6 })
  })

  it('a throwing listener is logged and the others still hear the event', async () => {
    const { collector, events, logger } = make()
    collector.add(rowsProjection('p'))
    const heard: string[] = []
    collector.on('rebuilt', () => {
      throw new Error('listener broke')
    })
    const unsubscribe = collector.on('rebuilt', (info) => heard.push(`first ${info.name}`))
    collector.on('rebuilt', (info) => heard.push(`second ${info.name}`))
    await appendMany(events, 2)
    await collector.start()
    await eventually(() => heard.length === 2, 'both listeners')
    unsubscribe()
    await collector.rebuild('p')
    expect(heard).toEqual(['first p', 'second p', 'second p'])
    expect(logger.has('error', 'rebuilt listener threw')).toBe(true)
    expect(codeOfCall(() => collector.on('done' as never, () => {}))).toBe('INVALID_ARGUMENT')
  })

  it('an async listener that rejects is logged, not left as an unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason)
    }
    process.on('unhandledRejection', onUnhandled)
    try {
      const { collector, events, logger } = make()
      collector.add(rowsProjection('p'))
      collector.on('rebuilt', async () => {
        throw new Error('async listener broke')
      })
      await appendMany(events, 2)
      await collector.start()
      await eventually(() => logger.has('error', 'rebuilt listener threw'), {
        what: 'the logged rejection',
        timeoutMs: 2000,
      })
      // Node reports an unhandled rejection once the microtasks of its turn have run: after one
      // macrotask turn it would have been reported (an event, not a time)
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('rebuild', () => {
  it('is INVALID_STATE before start and NOT_FOUND for an unknown name', async () => {
    const { collector } = make()
    collector.add(rowsProjection('p'))
    expect(await codeOf(collector.rebuild('p'))).toBe('INVALID_STATE')
    await collector.start()
    expect(await codeOf(collector.rebuild('nope'))).toBe('NOT_FOUND')
  })

  it('a version change builds beside: the old data serves until the swap', async () => {
    const events = recording(createMemoryEventStore())
    const state = createMemoryStoreState()
    await appendMany(events, 20)
    const first = make({ events, store: memoryStore({ state }) }).collector.add(rowsProjection('p'))
    await first.start()
    await first.waitFor(20)
    await first.stop()
    const { collector, logger } = make({ events, store: memoryStore({ state }) })
    collector.add(rowsProjection('p', { version: '2' }))
    events.hold((read) => read.after === 0)
    const rebuilt: RebuiltInfo[] = []
    collector.on('rebuilt', (info) => rebuilt.push(info))
    await collector.start()
    expect(logger.has('info', 'projection needs a rebuild')).toBe(true)
    const reader = collector.reader<MemoryConnection>('p')
    const versions = () =>
      new Set(
        reader
          .table<{ version: string }>('rows')
          .values()
          .map((row) => row.version),
      )
    expect(versions()).toEqual(new Set(['1']))
    expect(statusOf(collector, 'p')).toMatchObject({
      state: 'rebuilding',
      position: 20,
      rebuild: { position: 0 },
    })
    events.release()
    await eventually(() => rebuilt.length === 1, 'swap')
    expect(rebuilt[0]).toMatchObject({ swapped: true, version: '2', position: 20 })
    // the reader taken before the swap follows it
    expect(versions()).toEqual(new Set(['2']))
    expect(positionsOf(reader)).toEqual(range(1, 20))
  })

  it('data ahead of the log or from another log is not served while it rebuilds (behaviour 3)', async () => {
    const state = createMemoryStoreState()
    const logState = createMemoryEventStoreState()
    const longer = recording(createMemoryEventStore({ id: 'log-a', state: logState }))
    await appendMany(longer, 30)
    const first = make({ events: longer, store: memoryStore({ state }) }).collector.add(rowsProjection('p'))
    await first.start()
    await first.waitFor(30)
    await first.stop()
    // A shorter log (a restored backup) and then a different log: the stored rows are unexplained.
    for (const [id, count] of [
      ['log-a', 10],
      ['log-b', 12],
    ] as const) {
      const events = recording(createMemoryEventStore({ id }))
      await appendMany(events, count)
      events.hold((read) => read.after === 0)
      const { collector, logger } = make({ events, store: memoryStore({ state }) })
      collector.add(rowsProjection('p'))
      await collector.start()
      expect(logger.has('info', 'projection needs a rebuild')).toBe(true)
      // emptied in place: no row the log cannot explain is readable, even on a build-beside store
      expect(rows(collector, 'p')).toEqual([])
      expect(statusOf(collector, 'p')).toMatchObject({ state: 'rebuilding', position: 0 })
      events.release()
      await collector.waitFor(count)
      expect(rows(collector, 'p')).toEqual(range(1, count))
      await collector.stop()
    }
  })

  it('without build-beside the rebuild is in place and reports progress up to the target', async () => {
    const { collector, events } = make({ store: memoryStore({ buildBeside: false }), batchSize: 7 })
    collector.add(rowsProjection('p'))
    await appendMany(events, 50)
    await collector.start()
    await collector.waitFor(50)
    const progress: ProgressInfo[] = []
    const rebuilt: RebuiltInfo[] = []
    collector.on('progress', (info) => progress.push(info))
    collector.on('rebuilt', (info) => rebuilt.push(info))
    await collector.rebuild('p')
    expect(rebuilt).toEqual([expect.objectContaining({ name: 'p', swapped: false, position: 50 })])
    expect(progress.at(-1)).toMatchObject({ name: 'p', position: 50, target: 50, etaMs: 0 })
    expect(progress.length).toBeGreaterThanOrEqual(1)
    expect(rows(collector, 'p')).toEqual(range(1, 50))
  })

  it('status shows rebuild progress while a rebuild is held', async () => {
    const events = recording(createMemoryEventStore())
    await appendMany(events, 30)
    const { collector } = make({ events, batchSize: 10 })
    collector.add(rowsProjection('p'))
    events.hold((read) => read.after >= 10)
    await collector.start()
    await eventually(() => statusOf(collector, 'p')?.position === 10, 'first batch')
    expect(statusOf(collector, 'p')).toMatchObject({
      state: 'rebuilding',
      rebuild: { position: 10, target: 30 },
    })
    const eta = statusOf(collector, 'p')?.rebuild
    expect(eta?.eventsPerSecond).toBeGreaterThanOrEqual(0)
    expect(eta?.etaMs).toBeGreaterThanOrEqual(0)
    events.release()
    await collector.waitFor(30)
  })

  it('stop throws away a build in flight; the next start builds again', async () => {
    const events = recording(createMemoryEventStore())
    const state = createMemoryStoreState()
    await appendMany(events, 10)
    const first = make({ events, store: memoryStore({ state }) }).collector.add(rowsProjection('p'))
    await first.start()
    await first.waitFor(10)
    await first.stop()
    const second = make({ events, store: memoryStore({ state }) }).collector
    second.add(rowsProjection('p', { version: '2' }))
    events.hold((read) => read.after === 0)
    await second.start()
    const stopped = second.stop()
    events.release()
    await stopped
    expect(state.projections.get('p')?.state).toMatchObject({ version: '1', position: 10 })
    const third = make({ events, store: memoryStore({ state }) }).collector
    third.add(rowsProjection('p', { version: '2' }))
    await third.start()
    expect(statusOf(third, 'p')?.state).toBe('rebuilding')
    await eventually(() => state.projections.get('p')?.state?.version === '2', 'the swap')
  })

  it('a build lost while it runs begins again beside: the live data is not reopened and rebuild() resolves', async () => {
    const inner = memoryStore()
    const opened: string[] = []
    let loseBuild = false
    const store: ProjectionStore<MemoryConnection> = {
      ...inner,
      open: (context) => inner.open(context),
      openSlot: (projection) => {
        opened.push(projection.name)
        return inner.openSlot(projection)
      },
      reader: (name) => inner.reader(name),
      close: () => inner.close(),
      async beginBuild(projection) {
        const build = await (inner.beginBuild as NonNullable<typeof inner.beginBuild>)(projection)
        // the build's data vanishes once (its file deleted, or damaged)
        return Object.assign(build, {
          check: (): 'ok' | 'lost' => {
            if (!loseBuild) return 'ok'
            loseBuild = false
            return 'lost'
          },
        })
      },
    }
    const { collector, events, logger } = make({ store })
    const control: Control = { applied: [] }
    collector.add(rowsProjection('p', { control }))
    await appendMany(events, 20)
    await collector.start()
    await collector.waitFor(20)
    await eventually(() => statusOf(collector, 'p')?.state === 'live', 'the first build')
    const gate = deferred()
    control.hold = gate.promise
    control.applied.length = 0
    const rebuilt: RebuiltInfo[] = []
    collector.on('rebuilt', (info) => rebuilt.push(info))
    const rebuilding = collector.rebuild('p')
    await eventually(() => control.applied.length > 0, 'the first batch of the build')
    loseBuild = true
    control.hold = undefined
    gate.resolve()
    let timer: ReturnType<typeof setTimeout> | undefined
    const hung = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('rebuild() never resolved')), 3000)
    })
    try {
      await Promise.race([rebuilding, hung])
    } finally {
      clearTimeout(timer)
    }
    expect(rebuilt).toHaveLength(1)
    expect(rebuilt[0]).toMatchObject({ swapped: true, position: 20 })
    expect(rows(collector, 'p')).toEqual(range(1, 20))
    expect(opened).toEqual(['p'])
    expect(logger.has('warn', 'the build of the projection was lost')).toBe(true)
  })

  it('rebuild requests from the store arrive through the poll; unknown names are logged', async () => {
    const store = memoryStore()
    const { collector, events, logger } = make({ store, pollIntervalMs: 5 })
    collector.add(rowsProjection('p'))
    await appendMany(events, 3)
    const rebuilt: RebuiltInfo[] = []
    collector.on('rebuilt', (info) => rebuilt.push(info))
    await collector.start()
    await eventually(() => rebuilt.length === 1, 'the first build')
    store.requestRebuild('p')
    store.requestRebuild('ghost')
    await eventually(() => rebuilt.length === 2, 'the requested rebuild')
    await eventually(() => logger.has('warn', 'unknown projection'), 'the warning')
    expect(store.state.requests).toEqual([])
  })

  it('a store whose takeRequests throws instead of rejecting is logged; the collector carries on', async () => {
    const inner = memoryStore()
    const store: ProjectionStore<MemoryConnection> = {
      ...inner,
      open: (context) => inner.open(context),
      openSlot: (projection) => inner.openSlot(projection),
      reader: (name) => inner.reader(name),
      close: () => inner.close(),
      takeRequests: () => {
        throw new EskitError('IO', 'requests folder unreadable')
      },
    }
    const { collector, events, logger } = make({ store, pollIntervalMs: 5 })
    collector.add(rowsProjection('p'))
    await collector.start()
    await eventually(() => logger.has('warn', 'could not take store requests'), {
      what: 'the warning',
      timeoutMs: 2000,
    })
    await collector.waitFor(await appendMany(events, 2))
    expect(rows(collector, 'p')).toEqual([1, 2])
  })

  it('start() publishes the status once, not once per projection', async () => {
    const inner = memoryStore()
    const published: number[] = []
    const store: ProjectionStore<MemoryConnection> = {
      ...inner,
      open: (context) => inner.open(context),
      openSlot: (projection) => inner.openSlot(projection),
      reader: (name) => inner.reader(name),
      close: () => inner.close(),
      publishStatus: (status) => published.push(status.length),
    }
    const { collector } = make({ store })
    for (let i = 0; i < 20; i++) collector.add(rowsProjection(`p${i}`))
    await collector.start()
    expect(published).toEqual([20])
  })

  it('publishes its status to the store', async () => {
    const store = memoryStore()
    const { collector, events } = make({ store })
    collector.add(rowsProjection('p'))
    await collector.start()
    await appendMany(events, 2)
    await collector.waitFor(2)
    await eventually(() => store.state.status[0]?.position === 2, 'a published status')
    expect(store.state.status[0]).toMatchObject({ name: 'p', state: 'live' })
  })
})

describe('waitFor', () => {
  it('validates its arguments', async () => {
    const { collector } = make()
    collector.add(rowsProjection('p'))
    await collector.start()
    for (const position of [-1, 1.5, Number.NaN, '3']) {
      expect(await codeOf(collector.waitFor(position as number))).toBe('INVALID_ARGUMENT')
    }
    expect(await codeOf(collector.waitFor(0, { timeoutMs: -5 }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(collector.waitFor(0, { projections: 'p' as never }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(collector.waitFor(0, { projections: ['nope'] }))).toBe('NOT_FOUND')
    expect(await codeOf(collector.waitFor(0))).toBe('resolved')
    expect(await codeOf(collector.waitFor(10, { projections: [] }))).toBe('resolved')
  })

  it('a timeout longer than a timer can hold (Infinity) keeps waiting instead of firing at once', async () => {
    const { collector, events } = make()
    collector.add(rowsProjection('p'))
    await collector.start()
    const outcomes: string[] = []
    const waiting = codeOf(collector.waitFor(1, { timeoutMs: Number.POSITIVE_INFINITY })).then((code) => {
      outcomes.push(code)
    })
    const shortWait = codeOf(collector.waitFor(1, { timeoutMs: 30 }))
    expect(await shortWait).toBe('TIMEOUT')
    expect(outcomes).toEqual([])
    await appendMany(events, 1)
    await waiting
    expect(outcomes).toEqual(['resolved'])
  })

  it('times out with TIMEOUT naming each projection behind and its position', async () => {
    const { collector, events } = make({ onError: 'retry' })
    const control: Control = {
      applied: [],
      throwOn: (e) => (e.position === 2 ? new Error('stuck') : undefined),
    }
    collector.add(rowsProjection('stuck', { control })).add(rowsProjection('fine'))
    await appendMany(events, 3)
    await collector.start()
    const error = (await collector.waitFor(3, { timeoutMs: 30 }).catch((e: unknown) => e)) as EskitError
    expect(error.code).toBe('TIMEOUT')
    expect(error.message).toContain('stuck at 1')
    expect(error.message).not.toContain('fine at')
    expect(error.details.laggards).toEqual([expect.objectContaining({ name: 'stuck', position: 1 })])
  })

  it('a projection halted while waited for rejects the wait with FAILED', async () => {
    const { collector, events } = make({ onError: 'stop' })
    const hold = deferred()
    const control: Control = {
      applied: [],
      hold: hold.promise,
      throwOn: (e) => (e.position === 2 ? new Error('no') : undefined),
    }
    collector.add(rowsProjection('p', { control }))
    await collector.start()
    const waiting = collector.waitFor(3, { timeoutMs: 60_000 })
    await appendMany(events, 3)
    hold.resolve()
    expect(await codeOf(waiting)).toBe('FAILED')
  })
})

describe('reader and parked', () => {
  it('are NOT_FOUND for unknown names', async () => {
    const { collector } = make()
    collector.add(rowsProjection('p'))
    await collector.start()
    expect(codeOfCall(() => collector.reader('nope'))).toBe('NOT_FOUND')
    expect(await codeOf(collector.parked('nope'))).toBe('NOT_FOUND')
    expect(await collector.parked('p')).toEqual([])
  })

  it('names that are not valid projection names are INVALID_NAME (behaviour 9), for every call taking one', async () => {
    const { collector } = make()
    collector.add(rowsProjection('p'))
    await collector.start()
    for (const name of ['../x', 'a/b', '', '.hidden']) {
      expect(
        codeOfCall(() => collector.reader(name)),
        name,
      ).toBe('INVALID_NAME')
      expect(await codeOf(collector.parked(name)), name).toBe('INVALID_NAME')
      expect(await codeOf(collector.rebuild(name)), name).toBe('INVALID_NAME')
      expect(await codeOf(collector.waitFor(1, { projections: [name] })), name).toBe('INVALID_NAME')
    }
    expect(await codeOf(collector.rebuild('ghost'))).toBe('NOT_FOUND')
  })
})

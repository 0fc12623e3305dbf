import type { EventStore, NewEvent, Projection, ReadAllOptions, StoredEvent } from '@eskit/core'
import type { ProjectionFixture, SuiteRow } from './fixtures.js'

/** Controls a test projection from the test: what it saw, when it throws. */
export interface Probe {
  /** Positions handed to `apply`, including batches that were rolled back. */
  readonly applied: number[]
  /** Returns a value to throw for this event (after the rows before it were written), or undefined. */
  throwOn: ((event: StoredEvent) => unknown) | undefined
  /** `apply` returns a promise (and rejects instead of throwing). */
  async: boolean
}

/** A fresh {@link Probe}. */
export function createProbe(): Probe {
  return { applied: [], throwOn: undefined, async: false }
}

/** The row a test projection of `version` writes for `event`. */
export function rowOf(version: string, event: StoredEvent): SuiteRow {
  return {
    id: String(event.position),
    position: event.position,
    type: event.type,
    value: `${version}:${event.type}:${JSON.stringify(event.data)}`,
  }
}

/** The rows a projection of `version` (reading `types`, or all) has after `events`. */
export function expectedRows(
  version: string,
  events: readonly StoredEvent[],
  types?: readonly string[],
): SuiteRow[] {
  return events
    .filter((event) => types === undefined || types.includes(event.type))
    .map((e) => rowOf(version, e))
}

/** A projection writing one {@link SuiteRow} per event into `table` through `fixture`. */
export function testProjection<Conn>(
  fixture: ProjectionFixture<Conn>,
  options: { name: string; table: string; version?: string; eventTypes?: string[]; probe?: Probe },
): Projection<Conn> {
  const version = options.version ?? '1'
  const probe = options.probe ?? createProbe()
  const write = (events: readonly StoredEvent[], conn: Conn): void | Promise<void> => {
    for (const event of events) {
      const failure = probe.throwOn?.(event)
      if (failure !== undefined) throw failure
      const done = fixture.insert(conn, options.table, rowOf(version, event))
      if (done instanceof Promise) throw new Error('the suite fixture must insert synchronously')
    }
  }
  const projection: Projection<Conn> = {
    name: options.name,
    version,
    setup: (conn) => fixture.setup(conn, options.table),
    apply(events, conn) {
      probe.applied.push(...events.map((event) => event.position))
      if (probe.async) {
        return Promise.resolve().then(() => write(events, conn))
      }
      return write(events, conn)
    },
  }
  if (options.eventTypes) projection.eventTypes = options.eventTypes
  return projection
}

/** Appends `count` events, every third `Issued`, the rest `Scanned`, over a few streams. */
export async function appendSample(events: EventStore, count: number, startAt = 1): Promise<void> {
  for (let n = startAt; n < startAt + count; n++) {
    const event: NewEvent = { type: n % 3 === 0 ? 'Issued' : 'Scanned', data: { n } }
    await events.append(`stream-${n % 7}`, [event])
  }
}

/** Every event of the log. */
export async function readEverything(events: EventStore): Promise<StoredEvent[]> {
  return events.readAll({ after: 0, limit: 1_000_000 })
}

/**
 * Wraps an event store so reads that match `blocked` wait until released; counts reads.
 * Used to hold a rebuild or a catch-up still while the test looks at the live data.
 */
export interface GatedEventStore extends EventStore {
  readonly reads: ReadAllOptions[]
  block(blocked: (options: ReadAllOptions) => boolean): void
  release(): void
}

/** See {@link GatedEventStore}. */
export function gate(events: EventStore): GatedEventStore {
  let blocked: ((options: ReadAllOptions) => boolean) | undefined
  let opened: Promise<void> = Promise.resolve()
  let open: () => void = () => {}
  const reads: ReadAllOptions[] = []
  return {
    get id() {
      return events.id
    },
    reads,
    append: (streamId, batch, options) => events.append(streamId, batch, options),
    async readAll(options) {
      reads.push(options)
      while (blocked?.(options)) await opened
      return events.readAll(options)
    },
    readStream: (streamId) => events.readStream(streamId),
    head: () => events.head(),
    onAppend: (listener) => events.onAppend(listener),
    close: () => events.close(),
    block(predicate) {
      blocked = predicate
      opened = new Promise((resolve) => {
        open = resolve
      })
    },
    release() {
      blocked = undefined
      open()
    },
  }
}

/** Polls `check` until it returns true (or throws no more), for at most `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      if (await check()) return
      lastError = undefined
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

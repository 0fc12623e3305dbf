import type { ExpectedVersion, NewEvent, StoredEvent } from './event.js'
import type { WorkerSource } from './worker-source.js'

/**
 * Options of {@link EventStore.readAll}.
 *
 * @example
 * ```ts
 * const batch = await events.readAll({ after: 0, limit: 1000, types: ['PassIssued'] })
 * ```
 */
export interface ReadAllOptions {
  /** Read events with a position greater than this (0 = from the start). */
  after: number
  /** At most this many events. */
  limit: number
  /** Only these event types; filtered by the store (in its query), not by the caller. */
  types?: readonly string[]
}

/**
 * Options of {@link EventStore.append}.
 *
 * @example
 * ```ts
 * await events.append('pass-1', [scanned], { expectedVersion: 1 })
 * ```
 */
export interface AppendOptions {
  expectedVersion?: ExpectedVersion
}

/**
 * What {@link EventStore.append} returns: the last appended event's position and stream version.
 *
 * @example
 * ```ts
 * const { position, streamVersion } = await events.append('pass-1', [issued])
 * await collector.waitFor(position)
 * ```
 */
export interface AppendResult {
  position: number
  streamVersion: number
}

/**
 * The event log contract. `@eskit/sqlite-event-store` and `createMemoryEventStore` implement it;
 * third-party logs prove themselves with `runEventStoreSuite` from `@eskit/store-test-suite`.
 *
 * @example
 * ```ts
 * const events: EventStore = createMemoryEventStore()
 * await events.append('pass-1', [{ type: 'PassIssued', data: { holder: 'Ada' } }])
 * const batch = await events.readAll({ after: 0, limit: 100, types: ['PassIssued'] })
 * ```
 */
export interface EventStore {
  /** Stable identity of this log, kept in every projection file. */
  readonly id: string
  append(streamId: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult>
  readAll(options: ReadAllOptions): Promise<StoredEvent[]>
  readStream(streamId: string): Promise<StoredEvent[]>
  /** Position of the last event, 0 when empty. */
  head(): Promise<number>
  /** Called after each committed append with the new head; returns unsubscribe. */
  onAppend(listener: (head: number) => void): () => void
  close(): Promise<void>
  /**
   * How a worker thread opens this log for reading (its export returns an `EventStore` whose
   * `readAll` it uses), or null when it cannot (an in-memory log). Optional: without it, builds
   * run on the main thread.
   */
  workerSource?(): WorkerSource | null
  /**
   * The head and a page of `readAll` in one call, answered as `head()` followed by `readAll()`
   * would answer (every event up to `head` that the page's range holds is in it). Optional: a
   * log behind a network answers both in one round trip, which the collector uses to read the
   * next batch while it applies one; without it the collector makes the two calls.
   */
  readPage?(options: ReadAllOptions): Promise<LogPage>
}

/**
 * What {@link EventStore.readPage} answers: the head, and the events of the page.
 *
 * @example
 * ```ts
 * const { head, events: batch } = await events.readPage({ after: 0, limit: 1000 })
 * ```
 */
export interface LogPage {
  readonly head: number
  readonly events: StoredEvent[]
}

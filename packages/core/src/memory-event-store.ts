import {
  assertReadAllOptions,
  concurrencyError,
  createAppendListeners,
  decodeEventRecord,
  type EventRecord,
  expectedVersionMatches,
  validateAppend,
} from './adapter/event-store-kit.js'
import { createLifecycle } from './adapter/lifecycle.js'
import { EskitError } from './eskit-error.js'
import type { NewEvent, StoredEvent } from './event.js'
import type { AppendOptions, AppendResult, EventStore, ReadAllOptions } from './event-store.js'
import type { Logger } from './logger.js'
import { silentLogger } from './logger.js'
import { assertStreamId } from './validation.js'

/**
 * The data behind {@link createMemoryEventStore}. Pass the same state to a second store to
 * "reopen" the log (tests of restarts); create one with {@link createMemoryEventStoreState}.
 *
 * @example
 * ```ts
 * const state: MemoryEventStoreState = createMemoryEventStoreState()
 * const events = createMemoryEventStore({ state })
 * ```
 */
export interface MemoryEventStoreState {
  /** The log's id, fixed by the first store opened on this state. */
  id: string | undefined
  readonly records: EventRecord[]
  readonly streams: Map<string, number>
}

/**
 * Creates the data of an in-memory event log that survives closing the store, so a test can
 * open a second store over the same events.
 *
 * @example
 * ```ts
 * const state = createMemoryEventStoreState()
 * const first = createMemoryEventStore({ state })
 * await first.append('a', [{ type: 'T', data: 1 }])
 * await first.close()
 * const again = createMemoryEventStore({ state }) // same id, same events
 * ```
 */
export function createMemoryEventStoreState(): MemoryEventStoreState {
  return { id: undefined, records: [], streams: new Map() }
}

/**
 * Options of {@link createMemoryEventStore}.
 *
 * @example
 * ```ts
 * const options: MemoryEventStoreOptions = { id: 'test-log', logger: silentLogger }
 * const events = createMemoryEventStore(options)
 * ```
 */
export interface MemoryEventStoreOptions {
  /** The log's `id`; default a random UUID (or the id already in `state`). */
  id?: string
  /** Receives a line when an `onAppend` listener throws. */
  logger?: Logger
  /** Shared data, to reopen the same log (see {@link createMemoryEventStoreState}). */
  state?: MemoryEventStoreState
}

/**
 * An event log in memory with the full {@link EventStore} semantics: gap-free positions from 1,
 * stream versions, `expectedVersion` (`CONCURRENCY`, nothing written), validation
 * (`INVALID_EVENT`), type-filtered reads, `onAppend`, `CLOSED` after `close()`. Data goes
 * through JSON on the way in and out, exactly as with a database. For tests and examples.
 *
 * @example
 * ```ts
 * const events = createMemoryEventStore()
 * const { position } = await events.append('pass-1', [{ type: 'PassIssued', data: { holder: 'Ada' } }], {
 *   expectedVersion: 'no-stream',
 * })
 * const all = await events.readAll({ after: 0, limit: 100 })
 * ```
 */
export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  const state = options.state ?? createMemoryEventStoreState()
  if (state.id === undefined) state.id = options.id ?? globalThis.crypto.randomUUID()
  else if (options.id !== undefined && options.id !== state.id) {
    throw new EskitError('INVALID_ARGUMENT', `the log state has id ${state.id}, not ${options.id}`, {
      details: { id: options.id, stateId: state.id },
    })
  }
  const id = state.id
  const listeners = createAppendListeners(options.logger ?? silentLogger)
  const life = createLifecycle('the event store', { open: true })

  return {
    id,
    async append(streamId: string, events: NewEvent[], appendOptions?: AppendOptions): Promise<AppendResult> {
      life.assertOpen()
      const { encoded, expected } = validateAppend(streamId, events, appendOptions)
      const actual = state.streams.get(streamId) ?? 0
      if (!expectedVersionMatches(expected, actual)) throw concurrencyError(streamId, expected, actual)
      const recordedAt = Date.now()
      let version = actual
      for (const event of encoded) {
        version += 1
        state.records.push({
          position: state.records.length + 1,
          streamId,
          streamVersion: version,
          type: event.type,
          data: event.data,
          metadata: event.metadata,
          recordedAt,
        })
      }
      state.streams.set(streamId, version)
      const head = state.records.length
      listeners.notify(head)
      return { position: head, streamVersion: version }
    },
    async readAll(readOptions: ReadAllOptions): Promise<StoredEvent[]> {
      life.assertOpen()
      assertReadAllOptions(readOptions)
      const { after, limit, types } = readOptions
      const wanted = types === undefined ? undefined : new Set(types)
      const result: StoredEvent[] = []
      // positions start at 1 without gaps: position p is records[p - 1]
      for (let i = after; i < state.records.length && result.length < limit; i++) {
        const record = state.records[i] as EventRecord
        if (wanted === undefined || wanted.has(record.type)) result.push(decodeEventRecord(record))
      }
      return result
    },
    async readStream(streamId: string): Promise<StoredEvent[]> {
      life.assertOpen()
      assertStreamId(streamId)
      return state.records.filter((record) => record.streamId === streamId).map(decodeEventRecord)
    },
    async head(): Promise<number> {
      life.assertOpen()
      return state.records.length
    },
    onAppend(listener: (head: number) => void): () => void {
      life.assertOpen()
      return listeners.add(listener)
    },
    close: () => life.close(() => listeners.clear()),
  }
}

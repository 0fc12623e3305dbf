import { EskitError } from '../eskit-error.js'
import type { ExpectedVersion, StoredEvent } from '../event.js'
import type { AppendOptions, ReadAllOptions } from '../event-store.js'
import type { Logger } from '../logger.js'
import { assertStreamId, type EncodedEvent, encodeEvents } from '../validation.js'

/**
 * Throws `INVALID_ARGUMENT` unless `expected` is a safe non-negative integer, `'any'` or `'no-stream'`.
 *
 * @example
 * ```ts
 * assertExpectedVersion(options?.expectedVersion ?? 'any')
 * ```
 */
export function assertExpectedVersion(expected: unknown): asserts expected is ExpectedVersion {
  if (expected === 'any' || expected === 'no-stream') return
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return
  throw new EskitError(
    'INVALID_ARGUMENT',
    `expectedVersion must be a non-negative integer, 'any' or 'no-stream', not ${describe(expected)}`,
    { details: { expectedVersion: expected } },
  )
}

/**
 * Throws `INVALID_ARGUMENT` unless `options` is `{ after, limit, types? }` with `after` a safe
 * integer ≥ 0, `limit` a safe integer ≥ 1 and `types` an array of strings.
 *
 * @example
 * ```ts
 * async readAll(options) { assertReadAllOptions(options); return read(options.after, options.limit, options.types) }
 * ```
 */
export function assertReadAllOptions(options: unknown): asserts options is ReadAllOptions {
  if (typeof options !== 'object' || options === null) {
    throw new EskitError('INVALID_ARGUMENT', 'readAll needs { after, limit }')
  }
  const { after, limit, types } = options as Record<string, unknown>
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `readAll: after must be an integer >= 0, not ${describe(after)}`,
      {
        details: { after },
      },
    )
  }
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `readAll: limit must be an integer >= 1, not ${describe(limit)}`,
      {
        details: { limit },
      },
    )
  }
  if (types !== undefined && (!Array.isArray(types) || types.some((type) => typeof type !== 'string'))) {
    throw new EskitError('INVALID_ARGUMENT', 'readAll: types must be an array of strings')
  }
}

/**
 * An append checked and encoded: what every event store does before it writes anything.
 *
 * @example
 * ```ts
 * const { streamId, encoded, expected } = validateAppend(id, events, options)
 * ```
 */
export interface ValidatedAppend {
  readonly streamId: string
  readonly encoded: EncodedEvent[]
  readonly expected: ExpectedVersion
}

/**
 * Validates the arguments of `append` (stream id, events, `expectedVersion`) in the order every
 * eskit event store checks them, and encodes the events once. Nothing is written when it throws.
 *
 * @example
 * ```ts
 * async append(streamId, events, options) {
 *   life.assertOpen()
 *   const append = validateAppend(streamId, events, options)
 *   // ... one transaction: check append.expected, insert append.encoded
 * }
 * ```
 */
export function validateAppend(streamId: unknown, events: unknown, options?: AppendOptions): ValidatedAppend {
  assertStreamId(streamId)
  const encoded = encodeEvents(events)
  const expected = options?.expectedVersion ?? 'any'
  assertExpectedVersion(expected)
  return { streamId, encoded, expected }
}

/**
 * Whether a stream at version `actual` (0: no stream) may be appended to under `expected`.
 *
 * @example
 * ```ts
 * if (!expectedVersionMatches(expected, actual)) throw concurrencyError(streamId, expected, actual)
 * ```
 */
export function expectedVersionMatches(expected: ExpectedVersion, actual: number): boolean {
  return expected === 'any' || (expected === 'no-stream' ? actual === 0 : expected === actual)
}

/**
 * `CONCURRENCY`: the stream is not at the expected version; nothing was written.
 *
 * @example
 * ```ts
 * throw concurrencyError('pass-1', 'no-stream', 3)
 * ```
 */
export function concurrencyError(streamId: string, expected: ExpectedVersion, actual: number): EskitError {
  return new EskitError(
    'CONCURRENCY',
    `stream ${JSON.stringify(streamId)} is at version ${actual}, expected ${String(expected)}`,
    { details: { streamId, expected, actual } },
  )
}

/**
 * A stored event as a row: JSON text for data and metadata, `recordedAt` in ms since the epoch.
 *
 * @example
 * ```ts
 * const row: EventRecord = { position: 1, streamId: 'pass-1', streamVersion: 1, type: 'PassIssued', data: '{}', metadata: null, recordedAt: Date.now() }
 * ```
 */
export interface EventRecord {
  readonly position: number
  readonly streamId: string
  readonly streamVersion: number
  readonly type: string
  readonly data: string
  readonly metadata: string | null
  readonly recordedAt: number
}

/**
 * Decodes an {@link EventRecord} into a `StoredEvent` (one JSON parse for data, one for metadata).
 *
 * @example
 * ```ts
 * const events = rows.map(decodeEventRecord)
 * ```
 */
export function decodeEventRecord(record: EventRecord): StoredEvent {
  const event: StoredEvent = {
    position: record.position,
    streamId: record.streamId,
    streamVersion: record.streamVersion,
    type: record.type,
    data: JSON.parse(record.data),
    recordedAt: new Date(record.recordedAt),
  }
  if (record.metadata !== null) event.metadata = JSON.parse(record.metadata)
  return event
}

/**
 * The `onAppend` listeners of an event store.
 *
 * @example
 * ```ts
 * const listeners = createAppendListeners(logger)
 * // in the store: onAppend: (listener) => listeners.add(listener); after a commit: listeners.notify(head)
 * ```
 */
export interface AppendListeners {
  /** Subscribes; returns the unsubscribe. The same function may subscribe twice (two entries). */
  add(listener: (head: number) => void): () => void
  /** Tells every listener the new head; one that throws or rejects is logged, never fails the append. */
  notify(head: number): void
  readonly size: number
  clear(): void
}

/**
 * Creates the one `onAppend` listener registry every event store uses. `INVALID_ARGUMENT` for a
 * listener that is not a function. Notify only after the append committed.
 *
 * @example
 * ```ts
 * const listeners = createAppendListeners(logger)
 * const off = listeners.add((head) => logger.info('appended', { head }))
 * listeners.notify(42)
 * off()
 * ```
 */
export function createAppendListeners(logger: Logger): AppendListeners {
  const listeners = new Set<(head: number) => void>()
  const failed = (error: unknown, head: number): void => {
    try {
      logger.error('onAppend listener threw', {
        error: error instanceof Error ? error.message : String(error),
        head,
      })
    } catch {
      // A logger that throws must not turn a committed append into a failure.
    }
  }
  return {
    add(listener) {
      if (typeof listener !== 'function')
        throw new EskitError('INVALID_ARGUMENT', 'onAppend needs a function')
      // wrapped so the same function can subscribe twice and each unsubscribe removes one
      const entry = (head: number): void => listener(head)
      listeners.add(entry)
      return () => {
        listeners.delete(entry)
      }
    },
    notify(head) {
      if (listeners.size === 0) return
      for (const listener of [...listeners]) {
        try {
          const returned: unknown = listener(head)
          // an async listener's rejection would otherwise be an unhandled rejection
          if (isThenable(returned)) returned.then(undefined, (error: unknown) => failed(error, head))
        } catch (error) {
          failed(error, head)
        }
      }
    },
    get size() {
      return listeners.size
    },
    clear() {
      listeners.clear()
    },
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  return typeof value
}

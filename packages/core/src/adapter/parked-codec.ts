import { EskitError } from '../eskit-error.js'
import type { StoredEvent } from '../event.js'
import type { ParkedEvent } from '../projection-store.js'

/**
 * A parked event as a store keeps it: flat columns and the event as JSON text.
 *
 * @example
 * ```ts
 * const row: ParkedEventRow = encodeParkedEvent(parked)
 * insert.run(row.position, row.streamId, row.type, row.error, row.attempts, row.parkedAt, row.event)
 * ```
 */
export interface ParkedEventRow {
  readonly position: number
  readonly streamId: string
  readonly type: string
  readonly error: string
  readonly attempts: number
  readonly parkedAt: string
  /** The event as JSON (`recordedAt` as an ISO 8601 string). */
  readonly event: string
}

/**
 * Encodes a parked event for storage (see {@link decodeParkedEvent} for the way back).
 *
 * @example
 * ```ts
 * for (const parked of batch.parked ?? []) rows.push(encodeParkedEvent(parked))
 * ```
 */
export function encodeParkedEvent(parked: ParkedEvent): ParkedEventRow {
  return {
    position: parked.position,
    streamId: parked.streamId,
    type: parked.type,
    error: parked.error,
    attempts: parked.attempts,
    parkedAt: parked.parkedAt,
    event: JSON.stringify(parked.event),
  }
}

/**
 * Decodes a stored parked event: the event's `recordedAt` comes back as a `Date`, as the
 * contract says (JSON alone would leave a string). A row that is not JSON is `CORRUPT`.
 *
 * @example
 * ```ts
 * const parked = rows.map(decodeParkedEvent)
 * parked[0]?.event.recordedAt instanceof Date // true
 * ```
 */
export function decodeParkedEvent(row: ParkedEventRow): ParkedEvent {
  let event: Omit<StoredEvent, 'recordedAt'> & { recordedAt: string }
  try {
    event = JSON.parse(row.event)
  } catch (error) {
    throw new EskitError('CORRUPT', `parked event at position ${row.position} is not valid JSON`, {
      cause: error,
      details: { position: row.position },
    })
  }
  return {
    position: row.position,
    streamId: row.streamId,
    type: row.type,
    error: row.error,
    attempts: row.attempts,
    parkedAt: row.parkedAt,
    event: { ...event, recordedAt: new Date(event.recordedAt) },
  }
}

/**
 * A parked event copied through its stored form (for stores that keep objects, not rows):
 * nothing the caller keeps is shared, and `recordedAt` stays a `Date`.
 *
 * @example
 * ```ts
 * kept.push(...(batch.parked ?? []).map(copyParkedEvent))
 * ```
 */
export function copyParkedEvent(parked: ParkedEvent): ParkedEvent {
  return decodeParkedEvent(encodeParkedEvent(parked))
}

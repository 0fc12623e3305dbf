import type { ParkedEvent, StoredEvent } from '@eskit/core'
import type Database from 'better-sqlite3'
import { PARKED_TABLE } from './metadata.js'

interface ParkedRow {
  position: number
  stream_id: string
  type: string
  error: string
  attempts: number
  parked_at: string
  event: string
}

/** The events parked in a projection file, oldest first (the writer's slot and read-only readers share it). */
export function selectParkedEvents(db: Database.Database): ParkedEvent[] {
  const rows = db
    .prepare(
      `select position, stream_id, type, error, attempts, parked_at, event
       from ${PARKED_TABLE} order by position`,
    )
    .all() as ParkedRow[]
  return rows.map(
    (row): ParkedEvent => ({
      position: row.position,
      streamId: row.stream_id,
      type: row.type,
      error: row.error,
      attempts: row.attempts,
      parkedAt: row.parked_at,
      event: reviveEvent(row.event),
    }),
  )
}

function reviveEvent(text: string): StoredEvent {
  const event = JSON.parse(text) as StoredEvent & { recordedAt: string | Date }
  return { ...event, recordedAt: new Date(event.recordedAt) }
}

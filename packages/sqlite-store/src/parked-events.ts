import type { ParkedEvent } from '@eskit/core'
import { decodeParkedEvent, type ParkedEventRow } from '@eskit/core/adapter'
import { PARKED_TABLE } from './metadata.js'
import type { QueryConnection } from './read-only-connection.js'

/** The events parked in a projection file, oldest first (the writer's slot and read-only readers share it). */
export function selectParkedEvents(db: QueryConnection): ParkedEvent[] {
  const rows = db
    .prepare(
      `select position, stream_id as streamId, type, error, attempts, parked_at as parkedAt, event
       from ${PARKED_TABLE} order by position`,
    )
    .all() as ParkedEventRow[]
  return rows.map(decodeParkedEvent)
}

import { EskitError, type StoredEvent } from '@eskit/core'
import { decodeEventRecord, type EventRecord } from '@eskit/core/adapter'
import type BetterSqlite3 from 'better-sqlite3'
import { EVENTS_TABLE, TYPE_INDEX } from './schema.js'

/** Rows come back as the adapter kit's `EventRecord`s (columns aliased), decoded by it. */
type EventRow = EventRecord

const COLUMNS =
  'position, stream_id AS streamId, stream_version AS streamVersion, type, data, metadata, recorded_at AS recordedAt'

/**
 * A type-filtered read first scans this many rows per wanted event in position order (cheap when
 * most events match, which is the common case of a collector reading for all its projections),
 * then finishes with the `(type, position)` index (cheap when few match). Either way a call reads
 * at most `limit × SCAN_WINDOW` rows it does not return.
 */
export const SCAN_WINDOW = 4

/** The read statements (exported for the query-plan tests). */
export const READ_SQL = {
  all: `SELECT ${COLUMNS} FROM ${EVENTS_TABLE} WHERE position > ? ORDER BY position LIMIT ?`,
  // NOT INDEXED keeps this a rowid range scan; json_each binds any list with one statement.
  typesInWindow: `SELECT ${COLUMNS} FROM ${EVENTS_TABLE} NOT INDEXED
    WHERE position > ? AND position <= ? AND type IN (SELECT value FROM json_each(?))
    ORDER BY position LIMIT ?`,
  typesByIndex: `SELECT ${COLUMNS} FROM ${EVENTS_TABLE} INDEXED BY ${TYPE_INDEX}
    WHERE type IN (SELECT value FROM json_each(?)) AND position > ?
    ORDER BY position LIMIT ?`,
  stream: `SELECT ${COLUMNS} FROM ${EVENTS_TABLE} WHERE stream_id = ? ORDER BY stream_version`,
} as const

/** Reads events with statements prepared once; rows become `StoredEvent`s with one parse each. */
export interface EventReader {
  readAll(after: number, limit: number, types: readonly string[] | undefined): StoredEvent[]
  readStream(streamId: string): StoredEvent[]
}

/** Prepares the read statements on `db` (which must already hold the event log). */
export function createEventReader(db: BetterSqlite3.Database): EventReader {
  const prepare = (sql: string) => db.prepare<unknown[], EventRow>(sql).safeIntegers(false)
  const all = prepare(READ_SQL.all)
  const typesInWindow = prepare(READ_SQL.typesInWindow)
  const typesByIndex = prepare(READ_SQL.typesByIndex)
  const stream = prepare(READ_SQL.stream)

  const readTypes = (after: number, limit: number, types: readonly string[]): EventRow[] => {
    if (types.length === 0) return []
    const list = JSON.stringify(types)
    const windowEnd = Math.min(after + limit * SCAN_WINDOW, Number.MAX_SAFE_INTEGER)
    const rows = typesInWindow.all(after, windowEnd, list, limit)
    if (rows.length === limit) return rows
    // Continue after the last match, not after windowEnd: events committed by another process
    // between the two statements may sit inside the window, and the index finds them there.
    const last = rows.length > 0 ? (rows[rows.length - 1] as EventRow).position : after
    const more = typesByIndex.all(list, last, limit - rows.length)
    return rows.length === 0 ? more : rows.concat(more)
  }

  return {
    readAll(after, limit, types) {
      const rows = types === undefined ? all.all(after, limit) : readTypes(after, limit, types)
      return toEvents(rows)
    },
    readStream(streamId) {
      return toEvents(stream.all(streamId))
    },
  }
}

function toEvents(rows: EventRow[]): StoredEvent[] {
  const events = new Array<StoredEvent>(rows.length)
  let i = 0
  try {
    for (; i < rows.length; i++) {
      events[i] = decodeEventRecord(rows[i] as EventRow)
    }
  } catch (error) {
    // The store only ever writes JSON.stringify output: text that does not parse was damaged.
    const position = rows[i]?.position
    throw new EskitError('CORRUPT', `the event at position ${position} is damaged: its data is not JSON`, {
      cause: error,
      details: { position },
    })
  }
  return events
}

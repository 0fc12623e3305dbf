import type { ParkedEventRow } from '@eskit/core/adapter'
import type Database from 'better-sqlite3'
import { PARKED_TABLE } from './metadata.js'

/**
 * The one statement that stores a parked event in a projection file, with named parameters
 * (`@position`, `@streamId`, `@type`, `@error`, `@attempts`, `@parkedAt`, `@event`) that match
 * an `encodeParkedEvent` row. A second park of the same position replaces the first.
 */
export const PARKED_INSERT_SQL = `insert or replace into ${PARKED_TABLE}
  (position, stream_id, type, error, attempts, parked_at, event)
  values (@position, @streamId, @type, @error, @attempts, @parkedAt, @event)`

/**
 * Writes parked events (rows from `encodeParkedEvent`, or copied as stored) into a projection
 * file, inside the caller's transaction: the writer `migrateSharedToFiles` uses, so the file
 * format stays this package's alone.
 *
 * @example
 * ```ts
 * writeParkedEvents(db, parked.map(encodeParkedEvent))
 * ```
 */
export function writeParkedEvents(db: Database.Database, rows: readonly ParkedEventRow[]): void {
  if (rows.length === 0) return
  const insert = db.prepare(PARKED_INSERT_SQL)
  for (const row of rows) insert.run(row)
}

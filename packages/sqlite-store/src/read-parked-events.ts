import type { ParkedEvent } from '@eskit/core'
import { EskitError } from '@eskit/core'
import { decodeParkedEvent, type ParkedEventRow } from '@eskit/core/adapter'
import { toEskitError } from '@eskit/core/sqlite'
import { readFileHeader } from './file-header.js'
import { PARKED_TABLE } from './metadata.js'
import { readCommitted } from './read-only-connection.js'

/**
 * Reads the events parked in a projection file (`onError: 'skip'`), oldest first, **read-only**
 * like `readProjectionFile`: the file and its `-wal`/`-shm` are never modified, also while the
 * owner writes to it. Throws `NOT_FOUND` when the file does not exist, `CORRUPT` when it is not
 * SQLite; a file not initialised yet has none.
 *
 * @example
 * ```ts
 * for (const parked of readParkedEvents('data/projections/passes.pass_view.db')) logger.warn('parked', { position: parked.position, error: parked.error })
 * ```
 */
export function readParkedEvents(file: string): ParkedEvent[] {
  const header = readFileHeader(file)
  if (header.kind === 'missing') {
    throw new EskitError('NOT_FOUND', `projection file ${file} does not exist`, { details: { file } })
  }
  if (header.kind === 'not-sqlite') {
    throw new EskitError('CORRUPT', `${file} is not a projection file: ${header.reason}`, {
      details: { file },
    })
  }
  try {
    return readCommitted(file, header.wal, (db) => {
      const table = db
        .prepare(`select 1 as found from sqlite_master where type = 'table' and name = ?`)
        .get(PARKED_TABLE)
      if (table === undefined) return []
      const rows = db
        .prepare(
          `select position, stream_id as streamId, type, error, attempts, parked_at as parkedAt, event
           from ${PARKED_TABLE} order by position`,
        )
        .all() as ParkedEventRow[]
      return rows.map((row) => decodeParkedEvent({ ...row }))
    })
  } catch (error) {
    throw toEskitError(error, `could not read the parked events of ${file}`, { file })
  }
}

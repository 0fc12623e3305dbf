import { isEskitError } from '@eskit/core'
import { sqliteErrorCode, toEskitError } from '@eskit/core/sqlite'
import Database from 'better-sqlite3'
import { tuneWriter } from './connection.js'
import { METADATA_TABLE, readProjectionMetadata } from './metadata.js'

/** What {@link verifyProjectionFile} checks a file against. */
export interface VerifyOptions {
  readonly busyTimeoutMs: number
  /** The event log the store runs on: a file built from another is not trusted. */
  readonly logId: string | undefined
  /** Run SQLite's quick_check too (integrityCheck 'quick', or a file that reported corruption). */
  readonly quickCheck: boolean
}

/** The writer connection of a trusted file (`empty`: it still lacks eskit's data), or why it is not trusted. */
export type Verdict = { connection: Database.Database; empty: boolean } | { problem: string }

/**
 * Opens an existing projection file and decides whether it can be trusted. Returns the open
 * writer connection and whether it still lacks eskit's tables, or a problem that makes it
 * untrusted. Environment failures (permissions, I/O) are thrown, never treated as corruption.
 */
export function verifyProjectionFile(name: string, file: string, options: VerifyOptions): Verdict {
  const { busyTimeoutMs, logId } = options
  let db: Database.Database
  try {
    // plain open first: nothing is written to a file before it is known to be ours
    db = new Database(file, { timeout: busyTimeoutMs, fileMustExist: true })
  } catch (error) {
    if (sqliteErrorCode(error) === 'CORRUPT') return { problem: (error as Error).message }
    throw toEskitError(error, `could not open projection file ${file}`, { name, file })
  }
  try {
    const objects = db.prepare('select count(*) as n from sqlite_master').get() as { n: number }
    if (objects.n === 0) {
      tuneWriter(db, file, 'live')
      return { connection: db, empty: true }
    }
    const hasMetadata = db
      .prepare(`select 1 from sqlite_master where type = 'table' and name = ?`)
      .get(METADATA_TABLE)
    if (hasMetadata !== undefined && db.prepare(`select 1 from ${METADATA_TABLE}`).get() === undefined) {
      // created by this store and never initialised (initialize writes the row atomically)
      tuneWriter(db, file, 'live')
      return { connection: db, empty: true }
    }
    const metadata = readProjectionMetadata(db)
    if (metadata.name !== name) {
      db.close()
      return { problem: `foreign file: it holds projection ${JSON.stringify(metadata.name)}` }
    }
    if (logId !== undefined && metadata.logId !== logId) {
      // Rebuilt from this log it would lose data the operator may still want (the app pointed
      // at the wrong log): kept in quarantine, recoverable, rather than emptied in place.
      db.close()
      return { problem: `built from another event log (id ${metadata.logId}, this log is ${logId})` }
    }
    if (options.quickCheck) {
      const result = db.pragma('quick_check', { simple: true })
      if (result !== 'ok') {
        db.close()
        return { problem: `integrity check failed: ${String(result)}` }
      }
    }
    tuneWriter(db, file, 'live')
    return { connection: db, empty: false }
  } catch (error) {
    db.close()
    if (isEskitError(error, 'CORRUPT') || sqliteErrorCode(error) === 'CORRUPT') {
      return { problem: (error as Error).message }
    }
    throw toEskitError(error, `could not read projection file ${file}`, { name, file })
  }
}

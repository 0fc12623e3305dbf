import { EskitError } from '@eskit/core'
import Database from 'better-sqlite3'

/** How a writer connection is tuned: `live` files are durable, `build` files are fast. */
export type ConnectionMode = 'live' | 'build'

/**
 * Opens the writer connection of a projection file.
 *
 * - `live`: WAL (readers never block the writer and see only committed batches),
 *   `synchronous = NORMAL` (a committed batch survives a process crash; a power cut may lose the
 *   last batches, which are then replayed from the log because the checkpoint is in the same file).
 * - `build`: a crash discards the build anyway, so no fsync (`synchronous = OFF`), the rollback
 *   journal in memory (rollback of a failed batch still works), an exclusive lock held for the
 *   whole build and a big page cache.
 */
export function openWriter(file: string, mode: ConnectionMode, busyTimeoutMs: number): Database.Database {
  const db = new Database(file, { timeout: busyTimeoutMs })
  tuneWriter(db, file, mode)
  return db
}

/** Applies the settings of {@link openWriter} to an open connection; closes it if they fail. */
export function tuneWriter(db: Database.Database, file: string, mode: ConnectionMode): void {
  try {
    if (mode === 'live') {
      db.pragma('synchronous = NORMAL')
      const journal = db.pragma('journal_mode = WAL', { simple: true })
      if (journal !== 'wal') {
        throw new EskitError('IO', `could not switch ${file} to WAL mode (got ${String(journal)})`, {
          details: { file },
        })
      }
      db.pragma('cache_size = -16384')
    } else {
      db.pragma('locking_mode = EXCLUSIVE')
      db.pragma('synchronous = OFF')
      db.pragma('journal_mode = MEMORY')
      db.pragma('cache_size = -65536')
      db.pragma('temp_store = MEMORY')
    }
  } catch (error) {
    db.close()
    throw error
  }
}

/** Opens a read-only connection to a live projection file: writes through it fail. */
export function openReader(file: string, busyTimeoutMs: number): Database.Database {
  return new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs })
}

/**
 * Makes a file self-contained before its connection closes: checkpoints the WAL into the file and
 * switches it to a rollback journal, so no `-wal`/`-shm` stays behind and tools can open it
 * read-only without creating any. Gives up quietly when another connection still reads it
 * (SQLite then keeps the WAL, which is still correct).
 */
export function settleForRest(db: Database.Database): void {
  if (!db.open) return
  try {
    // a reader in another process may hold the file briefly; closing never waits long for it
    db.pragma('busy_timeout = 1000')
    if (db.inTransaction) db.exec('rollback')
    db.pragma('wal_checkpoint(TRUNCATE)')
    db.pragma('journal_mode = DELETE')
  } catch {
    // BUSY with a reader in another process: closing still checkpoints what it can
  }
}

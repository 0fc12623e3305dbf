import { EskitError } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import Database from 'better-sqlite3'

/** A claim on a shared database for this process; released by {@link OwnershipLock.release}. */
export interface OwnershipLock {
  readonly path: string
  release(): void
}

/**
 * Claims `{databasePath}.eskit-lock` for this process, or throws `LOCKED` at once.
 *
 * The lock is an exclusive SQLite lock (`locking_mode = EXCLUSIVE` plus one write) held on the
 * sidecar file for as long as this connection is open. The operating system drops it when the
 * process dies, even by SIGKILL, so a crash never leaves a stale lock behind, and SQLite
 * refuses a second connection in the same process as well. The sidecar file stays on disk
 * (deleting a lock file while others may be opening it is a race); it holds the owner's pid.
 *
 * @example
 * ```ts
 * const lock = acquireOwnershipLock('/srv/app.db')
 * try { ... } finally { lock.release() }
 * ```
 */
export function acquireOwnershipLock(databasePath: string): OwnershipLock {
  const path = `${databasePath}.eskit-lock`
  let db: Database.Database
  try {
    db = new Database(path, { timeout: 0 })
  } catch (error) {
    throw toEskitError(error, `could not open the lock file ${path}`, { path })
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('journal_mode = DELETE')
    db.exec('BEGIN EXCLUSIVE')
    db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL, since TEXT NOT NULL)')
    db.exec('DELETE FROM owner')
    db.prepare('INSERT INTO owner (pid, since) VALUES (?, ?)').run(process.pid, new Date().toISOString())
    db.exec('COMMIT')
  } catch (error) {
    db.close()
    const mapped = toEskitError(error, `could not lock ${databasePath}`, { path: databasePath })
    if (mapped.code === 'BUSY') {
      throw new EskitError('LOCKED', `${databasePath} is owned by another eskit store (lock ${path})`, {
        cause: error,
        details: { path: databasePath, lock: path },
      })
    }
    throw mapped
  }
  let held = true
  return {
    path,
    release() {
      if (!held) return
      held = false
      db.close()
    },
  }
}

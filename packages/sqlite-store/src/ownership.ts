import fs from 'node:fs'
import { EskitError } from '@eskit/core'
import { sqliteErrorCode, toEskitError } from '@eskit/core/sqlite'
import Database from 'better-sqlite3'
import { ensureDirectory } from './ensure-directory.js'
import { directoryLayout } from './layout.js'

/**
 * A held claim on a projection directory (see {@link acquireOwnership}).
 *
 * @example
 * ```ts
 * const lock: OwnershipLock = acquireOwnership('data/projections')
 * lock.release()
 * ```
 */
export interface OwnershipLock {
  readonly dir: string
  /** Releases the claim. Idempotent. */
  release(): void
}

/**
 * Claims a projection directory for this process, or throws `LOCKED` at once when another
 * process (or another store in this process) holds it.
 *
 * The claim is an exclusive SQLite lock on `{dir}/.eskit/owner.lock` (a POSIX advisory lock held
 * by the open connection). The operating system drops it when the process dies, so a crashed
 * owner leaves no stale claim: there is no PID file to clean up and no PID reuse to get wrong.
 *
 * @example
 * ```ts
 * const lock = acquireOwnership('data/projections')
 * try {
 *   // the directory is this process's until release()
 * } finally {
 *   lock.release()
 * }
 * ```
 */
export function acquireOwnership(dir: string): OwnershipLock {
  const layout = directoryLayout(dir)
  let db: Database.Database
  try {
    ensureDirectory(layout.eskit)
    db = new Database(layout.lock, { timeout: 0 })
  } catch (error) {
    throw toEskitError(error, `could not open the ownership lock of ${dir}`, { dir })
  }
  try {
    // No journal on disk: the file is never really written, only locked.
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('journal_mode = MEMORY')
    // In exclusive locking mode the lock taken by this write transaction stays held after commit
    // until the connection closes.
    db.exec('begin exclusive; commit')
  } catch (error) {
    db.close()
    if (sqliteErrorCode(error) === 'BUSY') {
      throw new EskitError('LOCKED', `projection directory ${dir} is owned by another process`, {
        cause: error,
        details: { dir, lock: layout.lock },
      })
    }
    throw toEskitError(error, `could not lock projection directory ${dir}`, { dir })
  }
  let released = false
  return {
    dir,
    release() {
      if (released) return
      released = true
      db.close()
    },
  }
}

/**
 * True when a live process owns the directory. Probes the lock read-only without taking it and
 * without creating any file.
 *
 * @example
 * ```ts
 * if (isDirectoryOwned(dir)) requestRebuild(dir, name)
 * ```
 */
export function isDirectoryOwned(dir: string): boolean {
  const { lock } = directoryLayout(dir)
  if (!fs.existsSync(lock)) return false
  let db: Database.Database
  try {
    db = new Database(lock, { readonly: true, fileMustExist: true, timeout: 0 })
  } catch (error) {
    if (sqliteErrorCode(error) === 'BUSY') return true
    return false
  }
  try {
    db.prepare('select count(*) from sqlite_master').get()
    return false
  } catch (error) {
    return sqliteErrorCode(error) === 'BUSY'
  } finally {
    db.close()
  }
}

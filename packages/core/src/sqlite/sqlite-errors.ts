import { EskitError, type EskitErrorCode } from '../eskit-error.js'

/**
 * Maps an error thrown by SQLite (better-sqlite3 sets `code` to `SQLITE_*`) to an
 * {@link EskitError}. The one place where SQLite result codes become eskit codes, shared by every
 * SQLite-based package. An `EskitError` passes through unchanged.
 *
 * @example
 * ```ts
 * try { db.exec(sql) } catch (error) { throw toEskitError(error, 'could not write passes') }
 * ```
 */
export function toEskitError(error: unknown, message: string, details?: Record<string, unknown>): EskitError {
  if (error instanceof EskitError) return error
  const code = sqliteErrorCode(error)
  const reason = error instanceof Error ? error.message : String(error)
  return new EskitError(code, `${message}: ${reason}`, details ? { cause: error, details } : { cause: error })
}

/**
 * The eskit code for a SQLite error: `SQLITE_BUSY*`/`SQLITE_LOCKED*` → `BUSY`,
 * `SQLITE_CORRUPT*`/`SQLITE_NOTADB` → `CORRUPT`, `SQLITE_CONSTRAINT*` → `CONSTRAINT`,
 * `SQLITE_ERROR` (syntax error, no such table or column)/`SQLITE_RANGE` → `INVALID_QUERY`,
 * `SQLITE_FULL` → `DISK_FULL`, `SQLITE_READONLY*`/`SQLITE_PERM`/`SQLITE_CANTOPEN`/`EACCES` → `READ_ONLY`,
 * anything else → `IO`.
 *
 * @example
 * ```ts
 * sqliteErrorCode(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' })) // 'BUSY'
 * ```
 */
export function sqliteErrorCode(error: unknown): EskitErrorCode {
  const raw = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
  if (raw.startsWith('SQLITE_BUSY') || raw.startsWith('SQLITE_LOCKED')) return 'BUSY'
  if (raw.startsWith('SQLITE_CORRUPT') || raw === 'SQLITE_NOTADB') return 'CORRUPT'
  if (raw.startsWith('SQLITE_CONSTRAINT')) return 'CONSTRAINT'
  // SQLITE_ERROR is what prepare() reports for a syntax error or a missing table or column
  if (raw === 'SQLITE_ERROR' || raw === 'SQLITE_ERROR_MISSING_COLLSEQ' || raw === 'SQLITE_RANGE')
    return 'INVALID_QUERY'
  if (raw.startsWith('SQLITE_FULL') || raw === 'ENOSPC') return 'DISK_FULL'
  if (
    raw.startsWith('SQLITE_READONLY') ||
    raw.startsWith('SQLITE_PERM') ||
    raw.startsWith('SQLITE_CANTOPEN') ||
    raw === 'SQLITE_AUTH' ||
    raw === 'EACCES' ||
    raw === 'EPERM' ||
    raw === 'EROFS'
  )
    return 'READ_ONLY'
  return 'IO'
}

/** SQLite result codes of the storage itself, not of the projection's code (see `STORAGE_FAULT_CODES`). */
const STORAGE_FAULT = /^SQLITE_(FULL|IOERR|READONLY|CORRUPT|NOTADB|CANTOPEN|PERM|NOMEM|BUSY|LOCKED)/

/**
 * The SQLite classifier of the storage-fault rule (`@eskit/core/adapter`): for an error SQLite
 * raised because of the storage (full, I/O, read-only, damaged, busy, out of memory), the
 * `EskitError` to throw, keeping its code; for anything else, null (the projection's own failure).
 * Pass it as `classify` to `projectionError`.
 *
 * @example
 * ```ts
 * catch (error) { throw projectionError(name, 'apply', error, { classify: (e) => sqliteStorageFault(e, `apply of ${name} failed`) }) }
 * ```
 */
export function sqliteStorageFault(
  error: unknown,
  message = 'storage failure',
  details?: Record<string, unknown>,
): EskitError | null {
  return STORAGE_FAULT.test(rawCode(error)) ? toEskitError(error, message, details) : null
}

/**
 * True when SQLite says the file is damaged or not a database (`SQLITE_CORRUPT*`, `SQLITE_NOTADB`).
 *
 * @example
 * ```ts
 * if (isSqliteCorruption(error)) moveAside(file)
 * ```
 */
export function isSqliteCorruption(error: unknown): boolean {
  return /^SQLITE_(CORRUPT|NOTADB)/.test(rawCode(error))
}

function rawCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
}

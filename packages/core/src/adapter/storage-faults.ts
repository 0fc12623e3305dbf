import { type EskitError, type EskitErrorCode, isEskitError } from '../eskit-error.js'
import { projectionFailed } from './store-errors.js'

/**
 * The codes of storage faults: trouble of the storage itself (disk full, read-only, busy, I/O, a
 * damaged file, a lost connection), never of the projection's code.
 *
 * **The rule.** A storage fault keeps its code, also when it surfaces inside the projection's
 * `setup` or `apply` (a write that hit a full disk): the collector retries it with backoff under
 * every `onError` policy and never parks an event for it. Only what the projection's own code
 * threw becomes `PROJECTION_FAILED`. Each engine classifies its errors in one place (SQLite:
 * `isSqliteStorageFault` and `toEskitError` in `@eskit/core/sqlite`) and hands that classifier
 * to {@link projectionError}.
 *
 * @example
 * ```ts
 * if (isEskitError(error) && STORAGE_FAULT_CODES.includes(error.code)) scheduleRetry()
 * ```
 */
export const STORAGE_FAULT_CODES: readonly EskitErrorCode[] = [
  'BUSY',
  'DISK_FULL',
  'READ_ONLY',
  'IO',
  'CORRUPT',
]

/**
 * True for an `EskitError` whose code is a storage fault (see {@link STORAGE_FAULT_CODES}).
 *
 * @example
 * ```ts
 * isStorageFault(new EskitError('DISK_FULL', 'no space left')) // true
 * ```
 */
export function isStorageFault(error: unknown): error is EskitError {
  return isEskitError(error) && STORAGE_FAULT_CODES.includes(error.code)
}

/**
 * Turns what the projection's `setup`/`apply` threw into the error the store throws:
 * `classify` (the engine's one classifier) returns an `EskitError` for a storage fault, which is
 * thrown as is; an `EskitError` that is a storage fault passes through; anything else is
 * `PROJECTION_FAILED` with the original as `cause`.
 *
 * @example
 * ```ts
 * try { projection.apply(batch.events, db) }
 * catch (error) { throw projectionError('passes', 'apply', error, { classify: sqliteStorageFault }) }
 * ```
 */
export function projectionError(
  name: string,
  step: 'setup' | 'apply',
  error: unknown,
  options: { classify?: (error: unknown) => EskitError | null; details?: Record<string, unknown> } = {},
): EskitError {
  const fault = options.classify?.(error) ?? null
  if (fault) return fault
  if (isStorageFault(error)) return error
  return projectionFailed(name, step, error, options.details)
}

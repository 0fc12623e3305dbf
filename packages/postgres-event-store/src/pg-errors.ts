import { EskitError, type EskitErrorCode } from '@eskit/core'
import type { Redactor } from './redact.js'

// Node socket errors that mean the server is not there (or went away).
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
])

/**
 * The eskit code for an error from node-postgres or the server (SQLSTATE in `code`): the one place
 * where PostgreSQL errors become eskit codes.
 *
 * - connection refused/lost, `08*` connection exceptions, `57P0*` shutdown, `53300` too many
 *   connections, `57014` statement timeout or cancel → `UNAVAILABLE`
 * - `55P03` lock not available (`lock_timeout`) → `BUSY`
 * - `23*` integrity constraint → `CONSTRAINT`; `53100` disk full → `DISK_FULL`
 * - `28*` authentication, `42501` privilege, `25006` read-only transaction → `READ_ONLY`
 * - `3D000` unknown database, `3F000` unknown schema → `NOT_FOUND`
 * - `22021`/`22P05` a character PostgreSQL cannot store (NUL) → `INVALID_EVENT`
 * - `XX001`/`XX002` data corrupted → `CORRUPT`; anything else → `IO`
 */
export function postgresErrorCode(error: unknown): EskitErrorCode {
  if (error instanceof EskitError) return error.code
  // A host with several addresses (localhost: ::1 and 127.0.0.1) fails with an AggregateError.
  if (error instanceof AggregateError && error.errors.length > 0 && !('code' in error)) {
    return postgresErrorCode(error.errors[0])
  }
  const raw = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
  if (NETWORK_CODES.has(raw)) return 'UNAVAILABLE'
  if (raw.startsWith('08') || raw.startsWith('57P') || raw === '53300' || raw === '57014')
    return 'UNAVAILABLE'
  if (raw === '55P03') return 'BUSY'
  if (raw.startsWith('23')) return 'CONSTRAINT'
  if (raw === '53100') return 'DISK_FULL'
  if (raw.startsWith('28') || raw === '42501' || raw === '25006') return 'READ_ONLY'
  if (raw === '3D000' || raw === '3F000') return 'NOT_FOUND'
  if (raw === '22021' || raw === '22P05') return 'INVALID_EVENT'
  if (raw === 'XX001' || raw === 'XX002') return 'CORRUPT'
  if (raw === '' && error instanceof Error && isLostConnectionMessage(error.message)) return 'UNAVAILABLE'
  return 'IO'
}

// node-postgres reports a dropped or never-made connection with plain Errors (no code).
function isLostConnectionMessage(message: string): boolean {
  return (
    message.includes('Connection terminated') ||
    message.includes('timeout exceeded when trying to connect') ||
    message.includes('Client has encountered a connection error') ||
    message.includes('Client was closed and is not queryable') ||
    message.includes('Connection ended unexpectedly') ||
    message.includes('connect ECONNREFUSED')
  )
}

/**
 * Wraps an error from node-postgres in an {@link EskitError} with the mapped code, a redacted
 * message, and the original as `cause`. An `EskitError` passes through unchanged.
 */
export function toPostgresError(
  error: unknown,
  message: string,
  redact: Redactor,
  details?: Record<string, unknown>,
): EskitError {
  if (error instanceof EskitError) return error
  const code = postgresErrorCode(error)
  const reason = error instanceof Error ? error.message : String(error)
  const sqlState =
    typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined
  return new EskitError(code, redact(`${message}: ${reason}`), {
    cause: error,
    details: { ...details, ...(sqlState ? { pgCode: sqlState } : {}) },
  })
}

import type { CollectorContext } from './collector-context.js'
import { messageOf } from './error-text.js'
import { isEskitError } from './eskit-error.js'

/**
 * Whether the collector can read its event log: `reachable`, or `unreachable` since a failed read
 * (a PostgreSQL log that is down, a connection lost), with the last error and the failed attempts
 * so far. Projections keep serving their data either way.
 */
export type LogReachability =
  | { phase: 'reachable' }
  | { phase: 'unreachable'; since: number; error: string; code: string | undefined; attempts: number }

export const REACHABLE: LogReachability = { phase: 'reachable' }

/** A read of the log failed: enters `unreachable` (true when it just did) or counts another attempt. */
export function logReadFailed(context: CollectorContext, error: unknown, now: number): boolean {
  const code = isEskitError(error) ? error.code : undefined
  const current = context.log
  if (current.phase === 'unreachable') {
    context.log = { ...current, error: messageOf(error), code, attempts: current.attempts + 1 }
    return false
  }
  context.log = { phase: 'unreachable', since: now, error: messageOf(error), code, attempts: 1 }
  return true
}

/** A read of the log succeeded: back to `reachable`. Returns how long it was unreachable, or null. */
export function logReadSucceeded(context: CollectorContext, now: number): number | null {
  const current = context.log
  if (current.phase === 'reachable') return null
  context.log = REACHABLE
  return now - current.since
}

/** Failed reads in a row (0 while reachable). */
export function attemptsOf(context: CollectorContext): number {
  return context.log.phase === 'unreachable' ? context.log.attempts : 0
}

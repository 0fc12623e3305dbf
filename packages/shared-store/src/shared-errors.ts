import { type BatchCommit, EskitError } from '@eskit/core'
import { isStorageFault } from '@eskit/core/adapter'
import { sqliteStorageFault } from '@eskit/core/sqlite'
import { type OwnerLookup, schemaConflict } from './setup-conflicts.js'
import { parseGuardViolation } from './write-guard.js'

// The shared store's error mapping. Storage faults keep their code (the rule of
// @eskit/core/adapter: retried, never parked), classified by the SQLite classifier; then come
// the conflicts between projections; what is left is the projection's own failure.

/** What `setup` threw: a storage fault, a `SCHEMA_CONFLICT`, or `PROJECTION_FAILED`. */
export function setupError(name: string, error: unknown, ownerOf: OwnerLookup): EskitError {
  const fault = sqliteStorageFault(error, `setup of projection "${name}" failed`, { name })
  if (fault) return fault
  if (isStorageFault(error)) return error
  const violation = parseGuardViolation(error)
  if (violation)
    return schemaConflict(name, { type: 'table', name: violation.table }, violation.owner, 'writes to', error)
  const message = error instanceof Error ? error.message : ''
  const exists = /^(table|index|view|trigger) (?:"?)(.+?)(?:"?) already exists$/i.exec(message)
  if (exists) {
    const type = exists[1]!.toLowerCase() as 'table'
    const object = { type, name: exists[2]! }
    return schemaConflict(name, object, ownerOf(object), 'creates', error)
  }
  return new EskitError('PROJECTION_FAILED', `setup of projection "${name}" failed: ${describe(error)}`, {
    cause: error,
    details: { name },
  })
}

/** What `apply` threw: a storage fault, or `PROJECTION_FAILED` (a write to another projection's table named). */
export function applyError(name: string, batch: BatchCommit, error: unknown): EskitError {
  const fault = sqliteStorageFault(error, `could not apply a batch of projection "${name}"`, {
    name,
    from: batch.from,
    to: batch.to,
  })
  if (fault) return fault
  if (isStorageFault(error)) return error
  const first = batch.events[0]?.position ?? batch.to
  const last = batch.events.at(-1)?.position ?? batch.to
  const violation = parseGuardViolation(error)
  const reason = violation
    ? `it wrote to table "${violation.table}", which belongs to projection "${violation.owner}"`
    : describe(error)
  return new EskitError(
    'PROJECTION_FAILED',
    `projection "${name}" failed to apply events ${first}..${last}: ${reason}`,
    {
      cause: error,
      details: {
        name,
        from: batch.from,
        to: batch.to,
        position: first,
        ...(violation ? { conflict: violation } : {}),
      },
    },
  )
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message
  try {
    return `non-error thrown: ${typeof error === 'string' ? error : JSON.stringify(error)}`
  } catch {
    return `non-error thrown: ${String(error)}`
  }
}

import { EskitError } from '../eskit-error.js'

/**
 * The compare-and-swap of a checkpoint failed: the stored position is not the batch's `from`.
 * Throw it before anything is written (or roll back): the collector continues from the stored one.
 *
 * @example
 * ```ts
 * if (stored.position !== batch.from) throw checkpointConflict('passes', batch.from, stored.position)
 * ```
 */
export function checkpointConflict(name: string, expected: number, actual: number | null): EskitError {
  return new EskitError(
    'CHECKPOINT_CONFLICT',
    `checkpoint of ${name} is ${actual ?? 'missing'}, not ${expected}: batch rolled back`,
    { details: { name, expected, actual } },
  )
}

/**
 * A commit on a slot that holds no initialised data (`state()` is null).
 *
 * @example
 * ```ts
 * if (stored === null) throw notInitialized('passes')
 * ```
 */
export function notInitialized(name: string): EskitError {
  return new EskitError('INVALID_STATE', `${name} is not initialised: call initialize first`, {
    details: { name },
  })
}

/**
 * A call on a slot (or build) that was closed.
 *
 * @example
 * ```ts
 * if (slotClosed) throw slotClosedError('passes')
 * ```
 */
export function slotClosedError(name: string): EskitError {
  return new EskitError('CLOSED', `the slot of ${name} is closed`, { details: { name } })
}

/**
 * The projection's own code (`setup` or `apply`) threw: `PROJECTION_FAILED` with the original as
 * `cause`. Under `onError: 'skip'` the collector parks the event. Never use it for a storage fault
 * (see {@link projectionError}, which decides).
 *
 * @example
 * ```ts
 * try { await projection.apply(batch.events, doc) } catch (error) { throw projectionFailed('passes', 'apply', error) }
 * ```
 */
export function projectionFailed(
  name: string,
  step: 'setup' | 'apply',
  error: unknown,
  details: Record<string, unknown> = {},
): EskitError {
  const reason = error instanceof Error ? error.message : String(error)
  return new EskitError('PROJECTION_FAILED', `${step} of ${name} failed: ${reason}`, {
    cause: error,
    details: { name, step, ...details },
  })
}

import { EskitError } from './eskit-error.js'
import type { ExpectedVersion } from './event.js'
import type { ReadAllOptions } from './event-store.js'

/**
 * Throws `INVALID_ARGUMENT` unless `expected` is a non-negative integer, `'any'` or `'no-stream'`.
 * Every event store checks `append`'s option with it, so all refuse the same values alike.
 *
 * @example
 * ```ts
 * assertExpectedVersion(options?.expectedVersion ?? 'any')
 * assertExpectedVersion(-1) // throws EskitError INVALID_ARGUMENT
 * ```
 */
export function assertExpectedVersion(expected: unknown): asserts expected is ExpectedVersion {
  if (expected === 'any' || expected === 'no-stream') return
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return
  throw new EskitError(
    'INVALID_ARGUMENT',
    `expectedVersion must be a non-negative integer, 'any' or 'no-stream', not ${describe(expected)}`,
    { details: { expectedVersion: expected } },
  )
}

/**
 * Throws `INVALID_ARGUMENT` unless `options` is `{ after >= 0, limit >= 1, types?: string[] }`:
 * the shared check of `readAll`'s options for every event store.
 *
 * @example
 * ```ts
 * assertReadAllOptions({ after: 0, limit: 1000, types: ['PassIssued'] }) // ok
 * assertReadAllOptions({ after: -1, limit: 10 })                         // throws INVALID_ARGUMENT
 * ```
 */
export function assertReadAllOptions(options: unknown): asserts options is ReadAllOptions {
  if (typeof options !== 'object' || options === null) {
    throw new EskitError('INVALID_ARGUMENT', 'readAll needs { after, limit }')
  }
  const { after, limit, types } = options as Record<string, unknown>
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `readAll: after must be an integer >= 0, not ${describe(after)}`,
      {
        details: { after },
      },
    )
  }
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `readAll: limit must be an integer >= 1, not ${describe(limit)}`,
      {
        details: { limit },
      },
    )
  }
  if (types !== undefined && (!Array.isArray(types) || types.some((type) => typeof type !== 'string'))) {
    throw new EskitError('INVALID_ARGUMENT', 'readAll: types must be an array of strings')
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  return typeof value
}

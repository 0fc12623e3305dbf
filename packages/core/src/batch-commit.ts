import { EskitError } from './eskit-error.js'
import type { BatchCommit } from './projection-store.js'

/**
 * Throws `INVALID_ARGUMENT` unless `batch` is a well-formed {@link BatchCommit}: integer
 * checkpoints with `0 <= from <= to`, events in ascending position order inside `(from, to]`,
 * parked events inside `(from, to]`. Projection stores call it first in `commit`, before they
 * touch anything.
 *
 * @example
 * ```ts
 * async commit(batch) {
 *   assertBatchCommit(batch)
 *   // ... transaction: check the stored position is batch.from, apply, store batch.to
 * }
 * ```
 */
export function assertBatchCommit(batch: BatchCommit): void {
  const fail = (reason: string): never => {
    throw new EskitError('INVALID_ARGUMENT', `invalid batch: ${reason}`, {
      details: { from: batch?.from, to: batch?.to },
    })
  }
  if (typeof batch !== 'object' || batch === null) fail('not an object')
  const { from, to, events, parked } = batch
  if (!Number.isInteger(from) || from < 0) fail('from must be an integer >= 0')
  if (!Number.isInteger(to) || to < from) fail('to must be an integer >= from')
  if (!Array.isArray(events)) fail('events must be an array')
  let previous = from
  for (const event of events) {
    const position = (event as { position?: unknown } | null)?.position
    if (
      typeof position !== 'number' ||
      !Number.isInteger(position) ||
      position <= previous ||
      position > to
    ) {
      fail(`event positions must increase within (${from}, ${to}]`)
    }
    previous = position as number
  }
  if (parked !== undefined) {
    if (!Array.isArray(parked)) fail('parked must be an array')
    for (const item of parked) {
      const position = item?.position
      if (!Number.isInteger(position) || position <= from || position > to) {
        fail(`parked positions must be within (${from}, ${to}]`)
      }
    }
  }
}

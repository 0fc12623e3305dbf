import { EskitError } from '../eskit-error.js'
import type { Projection } from '../projection.js'
import { assertProjectionName } from '../validation.js'

/**
 * Checks what `openSlot` / `beginBuild` were handed before anything is touched: an object with
 * a valid name (`INVALID_NAME`, behaviour 9) and `setup` and `apply` functions (`INVALID_ARGUMENT`).
 *
 * @example
 * ```ts
 * async openSlot(projection) {
 *   assertProjectionShape(projection)
 *   // ... now projection.name is safe as a file name
 * }
 * ```
 */
export function assertProjectionShape<Conn>(projection: Projection<Conn>): void {
  if (typeof projection !== 'object' || projection === null) {
    throw new EskitError('INVALID_ARGUMENT', 'openSlot needs a projection')
  }
  assertProjectionName(projection.name)
  if (typeof projection.setup !== 'function' || typeof projection.apply !== 'function') {
    throw new EskitError('INVALID_ARGUMENT', `projection "${projection.name}" needs setup() and apply()`, {
      details: { name: projection.name },
    })
  }
}

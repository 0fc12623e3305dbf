/**
 * `@eskit/core/adapter`: what every store author needs, so a third-party projection store or
 * event store checks and fails exactly like the first-party ones.
 */
export { assertBatchCommit } from '../batch-commit.js'
export {
  assertProjectionName,
  assertStreamId,
  type EncodedEvent,
  encodeEvents,
  isValidProjectionName,
} from '../validation.js'
export {
  type AppendListeners,
  assertExpectedVersion,
  assertReadAllOptions,
  concurrencyError,
  createAppendListeners,
  decodeEventRecord,
  type EventRecord,
  expectedVersionMatches,
  type ValidatedAppend,
  validateAppend,
} from './event-store-kit.js'
export { createLifecycle, type Lifecycle, type LifecyclePhase } from './lifecycle.js'
export { copyParkedEvent, decodeParkedEvent, encodeParkedEvent, type ParkedEventRow } from './parked-codec.js'
export { assertProjectionShape } from './projection-checks.js'
export { isStorageFault, projectionError, STORAGE_FAULT_CODES } from './storage-faults.js'
export { checkpointConflict, notInitialized, projectionFailed, slotClosedError } from './store-errors.js'

export { assertBatchCommit } from './batch-commit.js'
export { type Clock, systemClock, type TimerHandle } from './clock.js'
export { createCollector } from './collector.js'
export type {
  Collector,
  CollectorConfig,
  ErrorInfo,
  ProgressInfo,
  ProjectionState,
  ProjectionStatus,
  RebuiltInfo,
  RetryOptions,
} from './collector-types.js'
export { EskitError, type EskitErrorCode, isEskitError } from './eskit-error.js'
export type { ExpectedVersion, NewEvent, StoredEvent } from './event.js'
export type { AppendOptions, AppendResult, EventStore, LogPage, ReadAllOptions } from './event-store.js'
export { type LogFields, type Logger, silentLogger } from './logger.js'
export type { MemoryConnection, MemoryKey, MemoryTable } from './memory-connection.js'
export {
  createMemoryEventStore,
  createMemoryEventStoreState,
  type MemoryEventStoreOptions,
  type MemoryEventStoreState,
} from './memory-event-store.js'
export {
  createMemoryStoreState,
  type MemoryProjectionData,
  type MemoryStore,
  type MemoryStoreOptions,
  type MemoryStoreState,
  memoryStore,
} from './memory-store.js'
export type { Projection } from './projection.js'
export type {
  BatchCommit,
  ParkedEvent,
  ProjectionBuild,
  ProjectionSlot,
  ProjectionStore,
  SlotState,
  StoreCapabilities,
  StoreContext,
  StoreRequest,
} from './projection-store.js'
export {
  assertProjectionName,
  assertStreamId,
  type EncodedEvent,
  encodeEvents,
  isValidProjectionName,
} from './validation.js'
export type { ProjectionSource, WorkerSource } from './worker-source.js'

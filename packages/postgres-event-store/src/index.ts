export { openPostgresLogReader, type PostgresLogReaderOptions } from './log-reader.js'
export {
  createNodeRegistry,
  type NodeRegistry,
  type NodeRegistryOptions,
  type NodeReport,
} from './node-registry.js'
export { openPostgresEventStore } from './open-postgres-event-store.js'
export type {
  PostgresEventStoreOptions,
  PostgresEventStorePoolOptions,
  PostgresEventStoreTuning,
  PostgresEventStoreUrlOptions,
} from './options.js'

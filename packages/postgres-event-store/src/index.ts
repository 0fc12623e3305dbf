export { openPostgresEventStore } from './open-postgres-event-store.js'
export type {
  PostgresEventStoreOptions,
  PostgresEventStorePoolOptions,
  PostgresEventStoreTuning,
  PostgresEventStoreUrlOptions,
} from './options.js'

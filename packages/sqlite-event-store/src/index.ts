export {
  openSqliteEventStore,
  type SqliteEventStoreDatabaseOptions,
  type SqliteEventStoreOptions,
  type SqliteEventStorePathOptions,
} from './open-sqlite-event-store.js'

export {
  type MigratedProjection,
  type MigrationOptions,
  type MigrationProgress,
  type MigrationReport,
  migrateSharedToFiles,
} from './migrate-shared-to-files.js'
export {
  type SharedStore,
  type SharedStoreCommonOptions,
  type SharedStoreOptions,
  sharedStore,
} from './shared-store.js'

export { type CliIo, type CliStream, colorEnabled, processIo } from './cli-io.js'
export { directorySource, type ServeDashboardOptions, serveDashboard } from './dashboard-command.js'
export { EXIT_CODES, type ExitCode } from './exit-codes.js'
export {
  type MigrateOptions,
  type MigrateOutcome,
  migrateDirectory,
  renderMigration,
} from './migrate-command.js'
export {
  type RebuildOptions,
  type RebuildOutcome,
  type RebuildProgress,
  rebuildProjection,
} from './rebuild-command.js'
export { runCli } from './run-cli.js'
export { renderSnapshot, type SnapshotCommandOptions, snapshotDirectory } from './snapshot-command.js'
export {
  collectStatus,
  type ProjectionReport,
  type RuntimeStatus,
  renderStatus,
  type StatusReport,
} from './status-command.js'

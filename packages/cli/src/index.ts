#!/usr/bin/env node
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { processIo } from './cli-io.js'
import { runCli } from './run-cli.js'

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
export {
  collectStatus,
  type ProjectionReport,
  type RuntimeStatus,
  renderStatus,
  type StatusReport,
} from './status-command.js'

/** True when this file is the program being run (the `eskit` binary), not an import. */
function isMain(): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return fs.realpathSync(script) === fs.realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  const controller = new AbortController()
  const exitNow = (): never => {
    if (process.stderr.isTTY) process.stderr.write('\u001b[?25h\n')
    process.exit(130)
  }
  let interrupted = false
  process.on('SIGINT', () => {
    // Ctrl-C stops `rebuild --wait` cleanly (bar closed, the request left to the owner); whatever
    // else runs (a migration, which resumes safely) ends shortly after, with the cursor restored.
    if (interrupted) exitNow()
    interrupted = true
    controller.abort()
    setTimeout(exitNow, 500).unref()
  })
  process.exitCode = await runCli(process.argv.slice(2), processIo(controller.signal))
}

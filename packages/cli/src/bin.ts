#!/usr/bin/env node
// The `eskit` binary. Kept apart from src/index.ts, which only re-exports (no side effects).
import { processIo } from './cli-io.js'
import { runCli } from './run-cli.js'

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

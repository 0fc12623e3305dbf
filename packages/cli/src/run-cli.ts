import { isEskitError } from '@eskit/core'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import packageJson from '../package.json' with { type: 'json' }
import { type CliIo, processIo } from './cli-io.js'
import { type CommandContext, createCommandContext, printJson } from './command-context.js'
import { serveDashboard } from './dashboard-command.js'
import { EXIT_CODES, type ExitCode } from './exit-codes.js'
import { formatCount, formatDuration } from './format.js'
import { migrateDirectory, renderMigration } from './migrate-command.js'
import { createProgress, rateDetail } from './progress.js'
import { rebuildProjection } from './rebuild-command.js'
import { addSnapshotCommand } from './snapshot-command.js'
import { collectStatus, renderStatus } from './status-command.js'

const EXIT_CODES_HELP = `
Exit codes:
  0    ok
  1    failure (unknown projection, missing directory, rebuild failed or timed out, ...)
  2    usage error (unknown command or option, missing argument, invalid projection name)
  130  interrupted while waiting (a requested rebuild goes on in the owning process)`

/** Error codes that mean the command line itself is wrong. */
const USAGE_CODES: ReadonlySet<string> = new Set(['INVALID_NAME', 'INVALID_ARGUMENT'])

// Not commander's .env(): it reads process.env, and runCli takes its environment from io.env.
const dirOption = (): Option =>
  new Option('--dir <dir>', 'the projection directory (sqliteStore({ dir })); default $ESKIT_DIR')

const jsonOption = (): Option => new Option('--json', 'print the result as JSON on stdout')

function parseSeconds(value: string): number {
  const seconds = Number(value)
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidArgumentError('expected a number of seconds greater than 0')
  }
  return seconds
}

/** Prints a failure and returns its exit code. */
function reportFailure(context: CommandContext, error: unknown, json: boolean): ExitCode {
  const code = isEskitError(error) ? error.code : 'ERROR'
  const message = error instanceof Error ? error.message : String(error)
  if (json) {
    const details = isEskitError(error) ? error.details : {}
    printJson(context, { error: { code, message, details } })
  }
  context.io.stderr.write(`${context.err.red('error')} ${context.err.bold(code)}: ${message}\n`)
  return isEskitError(error) && USAGE_CODES.has(error.code) ? EXIT_CODES.usage : EXIT_CODES.failure
}

interface StatusOptions {
  dir: string
  json?: boolean
}

interface RebuildCommandOptions {
  dir: string
  wait?: boolean
  timeout?: number
  json?: boolean
}

interface DashboardCommandOptions {
  dir: string
  host: string
  port: number
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65_535) throw new InvalidArgumentError('expected a port from 0 to 65535')
  return port
}

interface MigrateCommandOptions {
  from: string
  dir: string
  resume?: boolean
  json?: boolean
}

async function runStatus(context: CommandContext, options: StatusOptions): Promise<ExitCode> {
  const report = collectStatus(options.dir)
  if (options.json === true) printJson(context, report)
  else context.io.stdout.write(renderStatus(report, context.out))
  return EXIT_CODES.ok
}

async function runRebuild(
  context: CommandContext,
  name: string,
  options: RebuildCommandOptions,
): Promise<ExitCode> {
  const { io, out } = context
  const progress = createProgress(io.stderr, { label: `rebuilding ${name}`, unit: 'events' })
  try {
    const outcome = await rebuildProjection({
      dir: options.dir,
      name,
      wait: options.wait === true,
      ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout * 1000 }),
      ...(io.signal === undefined ? {} : { signal: io.signal }),
      onRequested({ id, ownerPid }) {
        const owner = ownerPid === null ? 'the owning process' : `the owning process (pid ${ownerPid})`
        io.stderr.write(`asked ${owner} to rebuild ${name} with no downtime (request ${id})\n`)
      },
      onProgress(update) {
        if (update.target <= 0) return
        progress.update({
          value: update.position,
          total: update.target,
          detail: rateDetail(update.eventsPerSecond, update.etaMs),
        })
      },
    })
    // A fast rebuild can end before the owner publishes any progress: show the bar complete anyway.
    if (outcome.state === 'done' && outcome.position !== null) {
      progress.update({ value: outcome.position, total: outcome.position, detail: 'swapped in' })
    }
    progress.stop()
    if (options.json === true) printJson(context, outcome)
    if (outcome.action === 'deleted') {
      if (options.json !== true) {
        io.stdout.write(
          `${out.green('deleted')} ${outcome.deleted.join(', ')}\n` +
            `no process owns ${outcome.dir}: the next start rebuilds ${name} (and only it)\n`,
        )
      }
      return EXIT_CODES.ok
    }
    if (outcome.interrupted) {
      io.stderr.write(`stopped waiting; the rebuild of ${name} goes on in the owning process\n`)
      return EXIT_CODES.interrupted
    }
    if (options.json !== true) {
      if (outcome.state === 'done') {
        io.stdout.write(
          `${out.green('rebuilt')} ${name}: swapped in at position ${formatCount(outcome.position ?? 0)} after ${formatDuration(outcome.durationMs)}\n`,
        )
      } else {
        io.stdout.write(
          `${out.green('requested')} a rebuild of ${name} (request ${outcome.requestId}, ${outcome.state}); ` +
            'follow it with eskit status, or pass --wait\n',
        )
      }
    }
    return EXIT_CODES.ok
  } finally {
    progress.stop()
  }
}

async function runDashboard(context: CommandContext, options: DashboardCommandOptions): Promise<ExitCode> {
  const { io, out } = context
  await serveDashboard({
    dir: options.dir,
    host: options.host,
    port: options.port,
    logger: context.logger,
    ...(io.signal === undefined ? {} : { signal: io.signal }),
    onListening(url) {
      io.stdout.write(
        `${out.green('serving')} the dashboard of ${options.dir} on ${out.bold(url)} (read-only; Ctrl-C stops)\n`,
      )
    },
  })
  return EXIT_CODES.ok
}

async function runMigrate(context: CommandContext, options: MigrateCommandOptions): Promise<ExitCode> {
  const progress = createProgress(context.io.stderr, { label: 'migrating', unit: 'rows' })
  try {
    const outcome = await migrateDirectory({
      from: options.from,
      dir: options.dir,
      resume: options.resume === true,
      logger: context.logger,
      onProgress(update) {
        progress.update({
          value: update.rowsDone,
          total: update.rowsTotal,
          detail: `${update.projectionsDone}/${update.projectionsTotal} projections, ${update.name}`,
        })
      },
    })
    progress.stop()
    if (options.json === true) printJson(context, outcome)
    else context.io.stdout.write(renderMigration(outcome, context.out))
    return EXIT_CODES.ok
  } finally {
    progress.stop()
  }
}

function buildProgram(context: CommandContext, setExitCode: (code: ExitCode) => void): Command {
  const { io } = context
  const action =
    <A extends unknown[]>(run: (...args: A) => Promise<ExitCode>, json: (...args: A) => boolean) =>
    async (...args: A): Promise<void> => {
      try {
        setExitCode(await run(...args))
      } catch (error) {
        setExitCode(reportFailure(context, error, json(...args)))
      }
    }
  const program = new Command('eskit')
    .description('Operate eskit projection directories: status, rebuild, migrate, snapshot, dashboard.')
    .version(packageJson.version, '-v, --version')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(context.err.red(text)),
      getOutHasColors: () => context.out.isColorSupported,
      getErrHasColors: () => context.err.isColorSupported,
      getOutHelpWidth: () => io.stdout.columns ?? 100,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .hook('preAction', (_program, command) => {
      if (!command.options.some((option) => option.long === '--dir')) return
      if (command.getOptionValue('dir') !== undefined) return
      const fromEnv = io.env.ESKIT_DIR
      if (fromEnv !== undefined && fromEnv !== '') command.setOptionValueWithSource('dir', fromEnv, 'env')
      else {
        command.error("error: required option '--dir <dir>' not specified (or set ESKIT_DIR)", {
          code: 'commander.missingMandatoryOptionValue',
          exitCode: EXIT_CODES.usage,
        })
      }
    })

  program
    .command('status')
    .summary('list projection files, their versions and positions, and who owns the directory')
    .description(
      'List every projection file of a directory with version, position, log id, size and last build, ' +
        'and whether a process owns the directory (with its state, lag and rebuild progress). ' +
        'Read-only: opens files read-only and modifies nothing.',
    )
    .addOption(dirOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Examples:
  $ eskit status --dir data/projections
  $ eskit status --dir data/projections --json | jq '.projections[] | {name, position}'
${EXIT_CODES_HELP}`,
    )
    .action(
      action(
        (options: StatusOptions) => runStatus(context, options),
        (options) => options.json === true,
      ),
    )

  program
    .command('rebuild')
    .summary('rebuild one projection: delete its file, or ask the running owner (zero downtime)')
    .description(
      'Rebuild one projection. No process owns the directory: deletes {dir}/{name}.db (and its -wal/-shm) ' +
        'so the next start rebuilds that projection only. A process owns it: asks that process to rebuild it ' +
        'beside the live file and swap it in with no read downtime.',
    )
    .argument('<name>', 'the projection name, e.g. passes.pass_view')
    .addOption(dirOption())
    .option('--wait', 'when a process owns the directory, follow the rebuild until it is swapped in')
    .addOption(
      new Option('--timeout <seconds>', 'with --wait, give up after this long (exit 1)').argParser(
        parseSeconds,
      ),
    )
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Examples:
  $ eskit rebuild passes.pass_view --dir data/projections
  $ eskit rebuild passes.pass_view --dir data/projections --wait --timeout 600
${EXIT_CODES_HELP}`,
    )
    .action(
      action(
        (name: string, options: RebuildCommandOptions) => runRebuild(context, name, options),
        (_name, options) => options.json === true,
      ),
    )

  program
    .command('dashboard')
    .summary(
      'serve the operator dashboard of a directory, read-only (state, lag, rebuilds, errors, parked events)',
    )
    .description(
      'Serve the dashboard page of @eskit/dashboard for a projection directory, from what its owning process ' +
        'publishes and the files themselves (opened read-only): state, position, lag, rebuild progress, ' +
        'throughput, errors and parked events, live, and Prometheus metrics at /metrics. Loads no application ' +
        'code and has no write endpoint: use eskit rebuild to rebuild.',
    )
    .addOption(dirOption())
    .addOption(new Option('--host <host>', 'the address to listen on').default('127.0.0.1'))
    .addOption(
      new Option('--port <port>', 'the port to listen on (0: any free port)')
        .default(4400)
        .argParser(parsePort),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ eskit dashboard --dir data/projections
  $ eskit dashboard --dir data/projections --port 8080 --host 0.0.0.0
${EXIT_CODES_HELP}`,
    )
    .action(
      action(
        (options: DashboardCommandOptions) => runDashboard(context, options),
        () => false,
      ),
    )

  program
    .command('migrate')
    .summary('move a shared database to one file per projection, with no replay')
    .description(
      'Move a shared database (sharedStore) to per-file mode (sqliteStore) with no replay: ' +
        "each projection's tables and checkpoint are copied into {dir}/{name}.db. The source is only read.",
    )
    .requiredOption('--from <shared.db>', 'the shared database to read')
    .addOption(dirOption())
    .option('--resume', 'keep complete files left by an interrupted earlier run instead of stopping')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Examples:
  $ eskit migrate --from data/shared.db --dir data/projections
  $ eskit migrate --from data/shared.db --dir data/projections --resume --json
${EXIT_CODES_HELP}`,
    )
    .action(
      action(
        (options: MigrateCommandOptions) => runMigrate(context, options),
        (options) => options.json === true,
      ),
    )
  addSnapshotCommand(program, context, action, dirOption, EXIT_CODES_HELP)
  return program
}

/**
 * Runs the `eskit` command line in-process and returns its exit code (see {@link EXIT_CODES}):
 * the binary is `process.exitCode = await runCli(process.argv.slice(2))`. Never calls
 * `process.exit`; output goes to `io`.
 *
 * @example
 * ```ts
 * const code = await runCli(['rebuild', 'passes.pass_view', '--dir', 'data/projections', '--wait'])
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  const context = createCommandContext(io)
  let exitCode: ExitCode = EXIT_CODES.ok
  const program = buildProgram(context, (code) => {
    exitCode = code
  })
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version end with exitCode 0; every parse error is a usage error
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage
    }
    return reportFailure(context, error, argv.includes('--json'))
  }
}

#!/usr/bin/env node
import { mkdirSync } from 'node:fs'
import { isEskitError } from '@eskit/core'
import { SingleBar } from 'cli-progress'
import { Command, Option } from 'commander'
import {
  ConfigError,
  describeEventLog,
  type RawOptions,
  resolveConfig,
  type YoyopassConfig,
} from './config.ts'
import { createConsoleLogger } from './console-logger.ts'
import { openEventLog } from './event-log.ts'
import { seed } from './seed.ts'
import { type RunningServer, startServer } from './server.ts'

interface ServeOptions extends RawOptions {
  rebuildProjection?: string[]
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

function withServerOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--store <kind>',
        'projection storage: files (one SQLite file each) or shared (one database)',
      ).env('YOYOPASS_STORE'),
    )
    .addOption(
      new Option('--data <dir>', 'data directory: events.db, projections/, shared.db (default ./data)').env(
        'YOYOPASS_DATA',
      ),
    )
    .addOption(eventsOption())
    .addOption(new Option('--host <host>', 'interface to listen on (default 127.0.0.1)').env('YOYOPASS_HOST'))
    .addOption(
      new Option('--port <port>', 'port to listen on, 0 = any free port (default 3000)').env('YOYOPASS_PORT'),
    )
    .option(
      '--view-version <name=version>',
      'override a view version (repeatable); a change rebuilds that view',
      collect,
    )
    .option(
      '--rebuild-projection <name>',
      'rebuild this projection after start, while serving (repeatable)',
      collect,
    )
    .addOption(
      new Option('--body-limit <bytes>', 'largest accepted request body (default 16384)').env(
        'YOYOPASS_BODY_LIMIT',
      ),
    )
    .addOption(
      new Option('--wait-timeout <ms>', 'how long a consistent read waits (default 5000)').env(
        'YOYOPASS_WAIT_TIMEOUT',
      ),
    )
    .addOption(
      new Option('--log-level <level>', 'debug, info, warn or error (default info)').env(
        'YOYOPASS_LOG_LEVEL',
      ),
    )
    .addOption(
      new Option(
        '--dashboard-token <token>',
        'enables the rebuild button of the dashboard at /eskit (prefer the environment variable: flags show in ps)',
      ).env('YOYOPASS_DASHBOARD_TOKEN'),
    )
    .addOption(
      new Option(
        '--build-workers <n>',
        'worker threads for projection builds, 0 = main thread (default cores - 1, at least 1)',
      ).env('YOYOPASS_BUILD_WORKERS'),
    )
    .addOption(
      new Option(
        '--node-id <id>',
        "this node's name in the dashboard's cluster view, with a PostgreSQL log (default HOSTNAME-PID)",
      ).env('YOYOPASS_NODE_ID'),
    )
}

function eventsOption(): Option {
  return new Option(
    '--events <log>',
    'event log: sqlite (DATA/events.db, default) or postgres://… shared by many nodes',
  ).env('YOYOPASS_EVENTS')
}

function config(options: RawOptions): YoyopassConfig {
  return resolveConfig(options, process.env)
}

function progressBar(label: string): SingleBar {
  return new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} passes | ETA {eta}s`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    stream: process.stdout,
    noTTYOutput: true,
    notTTYSchedule: 1_000,
  })
}

async function runSeed(cfg: YoyopassConfig, passes: number, seedValue: number): Promise<void> {
  mkdirSync(cfg.dataDir, { recursive: true })
  const events = await openEventLog(cfg.events, cfg.dataDir, createConsoleLogger(cfg.logLevel))
  const bar = progressBar('seeding')
  bar.start(passes, 0)
  try {
    const report = await seed(events, { passes, seed: seedValue, onProgress: (done) => bar.update(done) })
    bar.stop()
    process.stdout.write(
      `seeded ${report.passes} passes, ${report.services} new services, ${report.events} events (log position ${report.position})\n`,
    )
  } finally {
    bar.stop()
    await events.close()
  }
}

// Ctrl-C / SIGTERM: finish in-flight requests, stop the collector, close files; a second signal forces exit.
function stopOnSignals(server: RunningServer): void {
  const logger = createConsoleLogger('info')
  let signalled = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn('second signal: exiting now', { signal })
      process.exit(130)
    }
    signalled = true
    logger.info('shutting down', { signal })
    server.stop(5_000).then(
      () => {
        logger.info('stopped cleanly')
        process.exit(0)
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error: error instanceof Error ? error.message : String(error) })
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

async function serveCommand(options: ServeOptions): Promise<RunningServer> {
  const cfg = config(options)
  mkdirSync(cfg.dataDir, { recursive: true })
  const server = await startServer(cfg, { rebuild: options.rebuildProjection ?? [] })
  stopOnSignals(server)
  // One parseable line on stdout: tests and scripts read the bound URL from it.
  process.stdout.write(`listening on ${server.url}\n`)
  return server
}

function demoInstructions(url: string, passId: string | undefined): string {
  const p = passId ?? 'PASS_ID'
  return [
    '',
    `yoyopass demo is running at ${url}  (Ctrl-C to stop)`,
    '',
    'Try:',
    `  curl -s ${url}/health`,
    `  curl -s ${url}/projections`,
    `  open ${url}/eskit/ in a browser: the operator dashboard (and ${url}/eskit/metrics for Prometheus)`,
    `  curl -s ${url}/services`,
    `  curl -s '${url}/passes?serviceId=city-pool&limit=5'`,
    `  curl -s ${url}/passes/${p}`,
    `  curl -s '${url}/passes/${p}/scans?limit=5'`,
    `  curl -s '${url}/scans?gate=north&limit=5'`,
    `  curl -s '${url}/stats/daily?serviceId=city-pool'`,
    '',
    'Issue a pass and scan it, then read your own write:',
    `  curl -s -X POST ${url}/passes -H 'content-type: application/json' -d '{"passId":"my-pass","serviceId":"city-pool","holder":"Ada Lovelace"}'`,
    `  curl -s -X POST ${url}/passes/my-pass/scans -H 'content-type: application/json' -d '{"gate":"north"}'`,
    `  curl -s '${url}/passes/my-pass?consistent=true'`,
    `  curl -s -X POST ${url}/passes/my-pass/revoke -H 'content-type: application/json' -d '{"reason":"lost","expectedVersion":2}'`,
    '',
  ].join('\n')
}

const program = new Command()
  .name('yoyopass')
  .description('A pass-and-scan service wired from the eskit packages.')
  .showHelpAfterError()

withServerOptions(
  program.command('serve', { isDefault: true }).description('serve the HTTP API (default)'),
).action(async (options: ServeOptions) => {
  await serveCommand(options)
})

withServerOptions(
  program
    .command('demo')
    .description('seed a modest data set on first run, then serve and print URLs to try'),
)
  .option('--passes <n>', 'passes to seed on first run', '1000')
  .action(async (options: ServeOptions & { passes: string }) => {
    const cfg = config(options)
    const passes = positiveInteger('--passes', options.passes)
    mkdirSync(cfg.dataDir, { recursive: true })
    const events = await openEventLog(cfg.events, cfg.dataDir, createConsoleLogger(cfg.logLevel))
    const empty = (await events.head()) === 0
    await events.close()
    if (empty) {
      process.stdout.write(
        `first run: seeding ${passes} passes into ${describeEventLog(cfg.events, cfg.dataDir)}\n`,
      )
      await runSeed(cfg, passes, 1)
    } else {
      process.stdout.write(`using the existing data in ${describeEventLog(cfg.events, cfg.dataDir)}\n`)
    }
    const server = await serveCommand(options)
    const sample = await server.events.readAll({ after: 0, limit: 50, types: ['PassIssued'] })
    const passId = (sample.at(-1)?.data as { passId?: string } | undefined)?.passId
    process.stdout.write(demoInstructions(server.url, passId))
  })

program
  .command('seed')
  .description('append a realistic data set to the event log (with a progress bar)')
  .addOption(new Option('--data <dir>', 'data directory (default ./data)').env('YOYOPASS_DATA'))
  .addOption(eventsOption())
  .option('--passes <n>', 'how many passes to issue', '1000')
  .option('--seed <n>', 'random seed (same seed, same shape of data)', '1')
  .action(async (options: RawOptions & { passes: string; seed: string }) => {
    await runSeed(
      config(options),
      positiveInteger('--passes', options.passes),
      positiveInteger('--seed', options.seed),
    )
  })

function positiveInteger(flag: string, value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(`${flag} must be a positive integer, got "${value}"`)
  }
  return n
}

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`yoyopass: ${error.message}\n`)
    process.exit(2)
  }
  if (isEskitError(error, 'LOCKED')) {
    process.stderr.write(`yoyopass: ${error.message}\n(another yoyopass process owns this data directory)\n`)
    process.exit(75)
  }
  process.stderr.write(
    `yoyopass: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})

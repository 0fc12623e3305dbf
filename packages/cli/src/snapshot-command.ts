import { isEskitError } from '@eskit/core'
import { type SnapshotProgress, type SnapshotReport, snapshotProjections } from '@eskit/sqlite-store'
import { type Command, Option } from 'commander'
import type { Colors } from './cli-io.js'
import { type CommandContext, printJson } from './command-context.js'
import { EXIT_CODES, type ExitCode } from './exit-codes.js'
import { formatBytes, formatCount, formatDuration, formatTable } from './format.js'
import { createProgress } from './progress.js'

/**
 * Options of {@link snapshotDirectory}.
 *
 * @example
 * ```ts
 * const options: SnapshotCommandOptions = { dir: 'data/projections', out: '/backups/node-c', names: ['passes.pass_view'] }
 * ```
 */
export interface SnapshotCommandOptions {
  /** The projection directory to copy from; only read, also while a process owns it. */
  dir: string
  /** The directory the copies go to; created when missing, existing files are never replaced. */
  out: string
  /** The projections to copy; default every projection file of `dir`. */
  names?: readonly string[]
  onProgress?: (progress: SnapshotProgress) => void
  /** Aborting stops the copy; the files it wrote are removed (`CLOSED`). */
  signal?: AbortSignal
}

/**
 * Runs `snapshotProjections` for `eskit snapshot`: consistent, self-contained copies of projection
 * files (checkpoint inside), also while the owning process writes. Errors are its `EskitError`s:
 * `ALREADY_EXISTS` when a target file exists (nothing written), `NOT_FOUND`, `INVALID_NAME`,
 * `LOCKED` when a process owns `out`, `CORRUPT` for a named file that is not a projection file.
 *
 * @example
 * ```ts
 * const report = await snapshotDirectory({ dir: 'data/projections', out: '/backups/node-c' })
 * console.log(report.projections.map((p) => `${p.name} ${p.position} ${p.checksum}`))
 * ```
 */
export function snapshotDirectory(options: SnapshotCommandOptions): Promise<SnapshotReport> {
  return snapshotProjections({
    dir: options.dir,
    out: options.out,
    ...(options.names === undefined ? {} : { names: options.names }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
}

/**
 * The human-readable report of `eskit snapshot`.
 *
 * @example
 * ```ts
 * process.stdout.write(renderSnapshot(report, pc.createColors(false)))
 * ```
 */
export function renderSnapshot(report: SnapshotReport, c: Colors): string {
  const count = report.projections.length
  const lines = [
    `${c.green('copied')} ${count} projection${count === 1 ? '' : 's'} from ${report.dir} to ${report.out}` +
      `${report.owned ? ' (taken live: a process owns the directory)' : ''}: ` +
      `${formatBytes(report.totalBytes)} in ${formatDuration(report.durationMs)}`,
  ]
  if (count > 0) {
    lines.push(
      '',
      formatTable(
        ['NAME', 'VERSION', 'POSITION', 'SIZE', 'CHECKSUM'],
        report.projections.map((p) => [
          p.name,
          p.version,
          formatCount(p.position),
          formatBytes(p.bytes),
          `${p.checksum.slice(0, 'sha256:'.length + 16)}…`,
        ]),
        c.bold,
      ),
    )
  }
  for (const skipped of report.skipped) {
    lines.push(`${c.yellow('skipped')} ${skipped.name}: ${skipped.problem}`)
  }
  lines.push(
    '',
    `next: start a node with sqliteStore({ dir: ${JSON.stringify(report.out)} }) on the same event log; ` +
      'each projection replays only the events after its position (on another log it rebuilds)',
  )
  return `${lines.join('\n')}\n`
}

interface SnapshotFlags {
  dir: string
  out: string
  json?: boolean
}

/** A commander action that records the exit code of `run` (see `runCli`). */
export type CommandAction = <A extends unknown[]>(
  run: (...args: A) => Promise<ExitCode>,
  json: (...args: A) => boolean,
) => (...args: A) => Promise<void>

async function runSnapshot(
  context: CommandContext,
  names: string[],
  flags: SnapshotFlags,
): Promise<ExitCode> {
  const { io } = context
  const progress = createProgress(io.stderr, { label: 'copying', unit: 'KB' })
  try {
    const report = await snapshotDirectory({
      dir: flags.dir,
      out: flags.out,
      names,
      ...(io.signal === undefined ? {} : { signal: io.signal }),
      onProgress(update) {
        progress.update({
          value: update.bytesDone / 1024,
          total: update.bytesTotal / 1024,
          detail: `${update.filesDone}/${update.filesTotal} files, ${update.name}`,
        })
      },
    })
    progress.stop()
    if (flags.json === true) printJson(context, report)
    else io.stdout.write(renderSnapshot(report, context.out))
    return EXIT_CODES.ok
  } catch (error) {
    if (io.signal?.aborted === true && isEskitError(error, 'CLOSED')) {
      progress.stop()
      io.stderr.write(`stopped: the snapshot was interrupted and the files it wrote were removed\n`)
      return EXIT_CODES.interrupted
    }
    throw error
  } finally {
    progress.stop()
  }
}

/**
 * Adds `eskit snapshot --dir DIR --out OUT [NAME…]` to the program.
 *
 * @example
 * ```ts
 * addSnapshotCommand(program, context, action)
 * ```
 */
export function addSnapshotCommand(
  program: Command,
  context: CommandContext,
  action: CommandAction,
  dirOption: () => Option,
  exitCodesHelp: string,
): void {
  program
    .command('snapshot')
    .summary('copy projection files (checkpoint inside) to start a new node, also while the owner writes')
    .description(
      'Write consistent, self-contained copies of projection files into OUT: {out}/{name}.db with its ' +
        "checkpoint inside and no -wal beside it, taken with SQLite's backup API inside one read transaction, " +
        'also while a process owns DIR and writes to it. Never replaces a file (ALREADY_EXISTS). A node started on ' +
        'OUT against the same event log replays only the events after each checkpoint; on another log it rebuilds.',
    )
    .argument('[names...]', 'the projections to copy (default: every projection file of DIR)')
    .addOption(dirOption())
    .addOption(
      new Option(
        '--out <out>',
        'the directory to write the copies to (created when missing)',
      ).makeOptionMandatory(),
    )
    .addOption(
      new Option('--json', 'print the report as JSON on stdout (name, position, bytes, checksum per file)'),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ eskit snapshot --dir data/projections --out /backups/2026-12-01
  $ eskit snapshot --dir data/projections --out /srv/node-c/projections passes.pass_view --json
${exitCodesHelp}`,
    )
    .action(
      action(
        (names: string[], flags: SnapshotFlags) => runSnapshot(context, names, flags),
        (_names, flags) => flags.json === true,
      ),
    )
}

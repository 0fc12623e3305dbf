import path from 'node:path'
import type { Logger } from '@eskit/core'
import { type MigrationProgress, type MigrationReport, migrateSharedToFiles } from '@eskit/shared-store'
import type { Colors } from './cli-io.js'
import { formatBytes, formatCount, formatDuration, formatTable } from './format.js'

/**
 * Options of {@link migrateDirectory}.
 *
 * @example
 * ```ts
 * const options: MigrateOptions = { from: 'data/shared.db', dir: 'data/projections', resume: true }
 * ```
 */
export interface MigrateOptions {
  /** The shared database (`sharedStore`); opened read-only. */
  from: string
  /** The per-file projection directory to fill; created if missing. */
  dir: string
  /** Keep complete files of an interrupted earlier run instead of stopping. */
  resume?: boolean
  logger?: Logger
  onProgress?: (progress: MigrationProgress) => void
}

/**
 * What `eskit migrate --json` prints: the migration report with both paths made absolute.
 *
 * @example
 * ```ts
 * const outcome: MigrateOutcome = await migrateDirectory({ from: 'data/shared.db', dir: 'data/projections' })
 * console.log(outcome.totalRows, outcome.dir)
 * ```
 */
export interface MigrateOutcome extends MigrationReport {
  from: string
  dir: string
}

/**
 * Runs `migrateSharedToFiles` for `eskit migrate`: copies every projection of a shared database
 * into its own file with no replay. Errors are the migration's `EskitError`s (`NOT_FOUND`,
 * `CORRUPT`, `INVALID_STATE` when a target file exists, `LOCKED` when a process owns `dir`).
 *
 * @example
 * ```ts
 * const outcome = await migrateDirectory({ from: 'data/shared.db', dir: 'data/projections' })
 * console.log(outcome.projections.length, outcome.totalRows)
 * ```
 */
export async function migrateDirectory(options: MigrateOptions): Promise<MigrateOutcome> {
  const from = path.resolve(options.from)
  const dir = path.resolve(options.dir)
  const report = await migrateSharedToFiles({
    from,
    dir,
    resume: options.resume === true,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  })
  return { from, dir, ...report }
}

/**
 * The human-readable report of `eskit migrate`.
 *
 * @example
 * ```ts
 * process.stdout.write(renderMigration(outcome, pc.createColors(false)))
 * ```
 */
export function renderMigration(outcome: MigrateOutcome, c: Colors): string {
  const migrated = outcome.projections.filter((p) => !p.skipped).length
  const skipped = outcome.projections.length - migrated
  const lines = [
    `${c.green('migrated')} ${migrated} projection${migrated === 1 ? '' : 's'} from ${outcome.from} to ${outcome.dir}` +
      (skipped > 0 ? ` (${skipped} kept from an earlier run)` : '') +
      `: ${formatCount(outcome.totalRows)} rows, ${formatBytes(outcome.totalBytes)} in ${formatDuration(outcome.durationMs)}`,
  ]
  if (outcome.projections.length > 0) {
    lines.push(
      '',
      formatTable(
        ['NAME', 'POSITION', 'ROWS', 'SIZE', 'TABLES', ''],
        outcome.projections.map((p) => [
          p.name,
          formatCount(p.position),
          formatCount(p.rows),
          formatBytes(p.bytes),
          p.tables.join(', '),
          p.skipped ? c.dim('kept') : '',
        ]),
        c.bold,
      ),
    )
  }
  lines.push(
    '',
    `next: run the collector on sqliteStore({ dir: ${JSON.stringify(outcome.dir)} }); each projection continues from its position with no replay`,
  )
  return `${lines.join('\n')}\n`
}

import fs from 'node:fs'
import path from 'node:path'
import { EskitError, type Logger, silentLogger } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import {
  acquireOwnership,
  directoryLayout,
  type OwnershipLock,
  projectionFilePath,
  readProjectionMetadata,
} from '@eskit/sqlite-store/files'
import Database from 'better-sqlite3'
import type { OwnedObjectRow, ProjectionRow } from './eskit-tables.js'
import { writeProjectionFile } from './migration-copy.js'
import { type ProjectionPlan, planProjection, readProjections } from './migration-plan.js'

/**
 * Options of {@link migrateSharedToFiles}.
 *
 * @example
 * ```ts
 * const options: MigrationOptions = { from: 'data/app.db', dir: 'data/projections', resume: true }
 * ```
 */
export interface MigrationOptions {
  /** The shared database (a `sharedStore` file). Opened read-only; never written. */
  from: string
  /** The per-file projection directory (`sqliteStore({ dir })`); created if missing. */
  dir: string
  logger?: Logger
  /** Called as rows are copied, e.g. to draw a progress bar. */
  onProgress?: (progress: MigrationProgress) => void
  /**
   * Re-run after an interrupted migration: a `{name}.db` that is already a complete projection
   * file of the same projection (same name, version and log id) is kept and reported as skipped.
   * Without it, any existing `{name}.db` stops the migration before anything is written.
   */
  resume?: boolean
}

/**
 * What {@link MigrationOptions.onProgress} receives.
 *
 * @example
 * ```ts
 * const onProgress = (p: MigrationProgress) => bar.update(p.rowsDone, { total: p.rowsTotal, name: p.name })
 * ```
 */
export interface MigrationProgress {
  /** The projection being copied. */
  name: string
  /** Projections finished so far (migrated or skipped). */
  projectionsDone: number
  projectionsTotal: number
  /** Rows copied so far, over all projections. */
  rowsDone: number
  /** Rows to copy in all, counted before the copy starts. */
  rowsTotal: number
}

/**
 * One projection in a {@link MigrationReport}.
 *
 * @example
 * ```ts
 * for (const p of report.projections) logger.info('migrated', { name: p.name, tables: p.tables, rows: p.rows, bytes: p.bytes, skipped: p.skipped })
 * ```
 */
export interface MigratedProjection {
  name: string
  /** The tables copied into `{dir}/{name}.db` (views, indexes and triggers come along with them). */
  tables: string[]
  rows: number
  /** Size of `{dir}/{name}.db`. */
  bytes: number
  /** The checkpoint carried over: a collector resumes after it with no replay. */
  position: number
  /** True when the file was left from an earlier run (`resume: true`) and not written again. */
  skipped: boolean
}

/**
 * What {@link migrateSharedToFiles} returns.
 *
 * @example
 * ```ts
 * const { projections, totalRows, totalBytes, durationMs } = await migrateSharedToFiles({ from, dir })
 * ```
 */
export interface MigrationReport {
  projections: MigratedProjection[]
  totalRows: number
  totalBytes: number
  durationMs: number
}

/**
 * Moves a shared database (`sharedStore`) to per-file mode (`sqliteStore`) with no replay
 * (behaviour 14). For each projection recorded in the shared database it copies the tables the
 * projection owns (schema, rows, indexes, views and triggers), its checkpoint, version, log id
 * and parked events into `{dir}/{name}.db`, in the exact format `sqliteStore` reads, so a
 * collector on `sqliteStore({ dir })` starts serving at once and continues from the checkpoint.
 *
 * Safety: the source is opened read-only and read in one snapshot; each file is written under a
 * temporary name in `{dir}/.eskit/builds`, fsynced, then linked into place (no half-written
 * `{name}.db` ever exists); an existing `{name}.db` is never overwritten. If any target exists
 * the migration stops before writing anything (`INVALID_STATE`), unless `resume: true` and the
 * file is a complete copy of the same projection from an interrupted run.
 *
 * @example
 * ```ts
 * const report = await migrateSharedToFiles({ from: 'data/app.db', dir: 'data/projections' })
 * logger.info('migrated', { projections: report.projections.length, rows: report.totalRows })
 * // then: createCollector({ events, store: sqliteStore({ dir: 'data/projections' }) })
 * ```
 */
export async function migrateSharedToFiles(options: MigrationOptions): Promise<MigrationReport> {
  const started = performance.now()
  const { from, dir } = checkOptions(options)
  const logger = options.logger ?? silentLogger
  const source = openSource(from)
  let lock: OwnershipLock | undefined
  try {
    // One read transaction for the whole run: every file comes from the same snapshot.
    source.exec('BEGIN')
    const projections = readProjections(source, from)
    const owned = source.prepare(
      'SELECT name, type, tbl_name AS tableName, projection FROM _eskit_tables WHERE projection = ? ORDER BY rowid',
    )
    const plans = projections.map((row) =>
      planProjection(source, row, owned.all(row.name) as OwnedObjectRow[]),
    )

    fs.mkdirSync(dir, { recursive: true })
    // While files appear in it, no sqliteStore may run on the directory (LOCKED if one does).
    lock = acquireOwnership(dir)
    const layout = directoryLayout(dir)
    fs.mkdirSync(layout.builds, { recursive: true })
    removeLeftovers(layout.builds, logger)
    const skip = checkTargets(dir, plans, options.resume === true)

    const rowsTotal = plans.reduce((sum, plan) => (skip.has(plan.row.name) ? sum : sum + plan.rows), 0)
    const progress: MigrationProgress = {
      name: '',
      projectionsDone: 0,
      projectionsTotal: plans.length,
      rowsDone: 0,
      rowsTotal,
    }
    const report = (name: string): void => {
      progress.name = name
      options.onProgress?.({ ...progress })
    }

    const results: MigratedProjection[] = []
    for (const plan of plans) {
      const { name } = plan.row
      const target = projectionFilePath(dir, name)
      if (skip.has(name)) {
        logger.info('migrate: kept the file of an earlier run', { projection: name, file: target })
        results.push({
          name,
          tables: plan.tables.map((table) => table.name),
          rows: 0,
          bytes: fs.statSync(target).size,
          position: plan.row.position,
          skipped: true,
        })
      } else {
        report(name)
        const rows = await writeProjectionFile(source, plan, layout.builds, target, (copied) => {
          progress.rowsDone += copied
          report(name)
        })
        const bytes = fs.statSync(target).size
        logger.info('migrate: projection copied', {
          projection: name,
          rows,
          bytes,
          position: plan.row.position,
        })
        results.push({
          name,
          tables: plan.tables.map((table) => table.name),
          rows,
          bytes,
          position: plan.row.position,
          skipped: false,
        })
      }
      progress.projectionsDone++
      report(name)
    }
    source.exec('COMMIT')
    return {
      projections: results,
      totalRows: results.reduce((sum, item) => sum + item.rows, 0),
      totalBytes: results.reduce((sum, item) => sum + item.bytes, 0),
      durationMs: performance.now() - started,
    }
  } catch (error) {
    throw toEskitError(error, `could not migrate ${from} to ${dir}`, { from, dir })
  } finally {
    lock?.release()
    source.close()
  }
}

function checkOptions(options: MigrationOptions): { from: string; dir: string } {
  if (typeof options !== 'object' || options === null) {
    throw new EskitError('INVALID_ARGUMENT', 'migrateSharedToFiles needs { from, dir }')
  }
  const { from, dir } = options
  if (typeof from !== 'string' || from.length === 0)
    throw new EskitError('INVALID_ARGUMENT', '`from` must be a path')
  if (typeof dir !== 'string' || dir.length === 0)
    throw new EskitError('INVALID_ARGUMENT', '`dir` must be a path')
  if (!fs.existsSync(from)) {
    throw new EskitError('NOT_FOUND', `shared database ${from} does not exist`, { details: { from } })
  }
  return { from: path.resolve(from), dir: path.resolve(dir) }
}

function openSource(from: string): Database.Database {
  try {
    return new Database(from, { readonly: true, fileMustExist: true })
  } catch (error) {
    throw toEskitError(error, `could not open ${from} read-only`, { from })
  }
}

/** Names whose `{name}.db` may be kept (resume); throws if any other target exists. */
function checkTargets(dir: string, plans: readonly ProjectionPlan[], resume: boolean): Set<string> {
  const keep = new Set<string>()
  const refused: string[] = []
  for (const { row } of plans) {
    const target = projectionFilePath(dir, row.name)
    if (!fs.existsSync(target)) continue
    if (resume && isCompleteCopy(target, row)) keep.add(row.name)
    else refused.push(target)
  }
  if (refused.length > 0) {
    throw new EskitError(
      'INVALID_STATE',
      `refusing to overwrite ${refused.length} existing projection file(s): ${refused.join(', ')}` +
        (resume
          ? ' (not a complete copy of the same projection)'
          : ' (after an interrupted run, pass resume: true)'),
      { details: { dir, existing: refused } },
    )
  }
  return keep
}

function isCompleteCopy(file: string, row: ProjectionRow): boolean {
  let db: Database.Database | undefined
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
    const metadata = readProjectionMetadata(db)
    return metadata.name === row.name && metadata.version === row.version && metadata.logId === row.logId
  } catch {
    return false
  } finally {
    db?.close()
  }
}

const LEFTOVER = /\.migrate-[0-9a-f-]{36}\.db(-wal|-shm|-journal)?$/

function removeLeftovers(builds: string, logger: Logger): void {
  for (const file of fs.readdirSync(builds)) {
    if (!LEFTOVER.test(file)) continue
    fs.rmSync(path.join(builds, file), { force: true })
    logger.info('migrate: removed the temporary file of an interrupted run', { file })
  }
}

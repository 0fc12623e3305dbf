import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from '@eskit/core'
import { assertProjectionName, EskitError, silentLogger } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import { fsyncDirectory, removeIfExists } from './durability.js'
import { ensureDirectory } from './ensure-directory.js'
import { directoryLayout, projectionFilePath, projectionNameOf, SQLITE_COMPANION_SUFFIXES } from './layout.js'
import { isDirectoryOwned } from './ownership.js'
import { type CopiedFile, checksumOf, copyFile, interrupted, Unusable } from './snapshot-copy.js'

/**
 * Options of {@link snapshotProjections}.
 *
 * @example
 * ```ts
 * const options: SnapshotOptions = { dir: 'data/projections', out: 'snapshots/2026-12-01', names: ['passes.pass_view'] }
 * ```
 */
export interface SnapshotOptions {
  /** The projection directory to copy from; only read, also while a process owns it. */
  dir: string
  /** Where the copies go: `{out}/{name}.db`. Created when missing; existing files are never replaced. */
  out: string
  /** The projections to copy; default every projection file of `dir`. */
  names?: readonly string[]
  /** Called after each copied chunk (and once per finished file). */
  onProgress?: (progress: SnapshotProgress) => void
  /** Where warnings go (files skipped because they are not projection files). */
  logger?: Logger
  /** Aborting stops between two chunks; every file this call wrote is removed again. */
  signal?: AbortSignal
  /**
   * Database pages copied per step (default 1024, 4 MiB at SQLite's default page size). Each
   * step runs synchronously; between steps the event loop (and the owner's writes) go on.
   */
  pagesPerStep?: number
}

/**
 * One progress update of {@link snapshotProjections}. `bytesTotal` is known from the start (the
 * sizes of the source files) and corrected as each file's exact size is read.
 *
 * @example
 * ```ts
 * onProgress: (p: SnapshotProgress) => bar.update(p.bytesDone, p.bytesTotal)
 * ```
 */
export interface SnapshotProgress {
  /** The projection being copied. */
  readonly name: string
  readonly filesDone: number
  readonly filesTotal: number
  readonly bytesDone: number
  readonly bytesTotal: number
}

/**
 * One copied projection file.
 *
 * @example
 * ```ts
 * const file: SnapshotFile = report.projections[0]
 * logger.info('copied', { name: file.name, position: file.position, checksum: file.checksum })
 * ```
 */
export interface SnapshotFile {
  readonly name: string
  /** The copy: `{out}/{name}.db`. */
  readonly file: string
  readonly version: string
  /** `id` of the event log the data was built from: a node on another log rebuilds the file. */
  readonly logId: string
  /** The checkpoint inside the copy: a node started on it replays only the events after it. */
  readonly position: number
  readonly builtAt: string
  /** Size of the copy in bytes. */
  readonly bytes: number
  /** `sha256:` and the hex SHA-256 of the copy's bytes. */
  readonly checksum: string
}

/**
 * What {@link snapshotProjections} did.
 *
 * @example
 * ```ts
 * const report: SnapshotReport = await snapshotProjections({ dir, out })
 * logger.info('snapshot', { files: report.projections.length, bytes: report.totalBytes })
 * ```
 */
export interface SnapshotReport {
  readonly dir: string
  readonly out: string
  /** True when a process owned `dir` when the snapshot began (the copies were taken live). */
  readonly owned: boolean
  readonly projections: readonly SnapshotFile[]
  /** Files of `dir` that are not valid projection files (only when no names were given): not copied. */
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly problem: string }>
  readonly totalBytes: number
  readonly durationMs: number
}

/** Pages copied per backup step by default: a smooth progress bar, and fast. */
const PAGES_PER_STEP = 1024

/**
 * Copies projection files into `out` as **consistent, self-contained** SQLite files, each with its
 * checkpoint inside: SQLite's online backup API reads each file inside one read transaction, so
 * the copy is the file as of one committed batch even while the owning process goes on writing
 * (in WAL mode the writer is never blocked), and never a raw copy of a live file. Each copy is
 * switched to rollback-journal mode (no `-wal`/`-shm` beside it), made durable, and put in place
 * with a hard link that fails if the name exists: **nothing is ever overwritten**.
 *
 * A node started on `out` against the same event log opens each file at its checkpoint and replays
 * only the events after it; against another log (another `id`) it rebuilds (the file records the
 * log's `id`).
 *
 * Throws, before writing anything: `INVALID_NAME` for a bad name, `NOT_FOUND` when `dir` or a
 * named file is missing, `ALREADY_EXISTS` when a target file exists in `out`, `LOCKED` when a
 * process owns `out`, `INVALID_ARGUMENT` when `out` is `dir`. A named file that is not a valid
 * projection file is `CORRUPT`; unnamed ones are skipped and reported. On any failure (or abort,
 * `CLOSED`) every file this call wrote is removed: `out` is left as it was.
 *
 * @example
 * ```ts
 * import { snapshotProjections } from '@eskit/sqlite-store'
 *
 * const report = await snapshotProjections({ dir: 'data/projections', out: '/backups/node-c' })
 * for (const file of report.projections) logger.info('snapshot', { name: file.name, position: file.position, checksum: file.checksum })
 * ```
 */
export async function snapshotProjections(options: SnapshotOptions): Promise<SnapshotReport> {
  const started = performance.now()
  if (typeof options?.dir !== 'string' || options.dir.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', 'snapshotProjections needs a source directory: { dir }')
  }
  if (typeof options.out !== 'string' || options.out.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', 'snapshotProjections needs a target directory: { out }')
  }
  const dir = path.resolve(options.dir)
  const out = path.resolve(options.out)
  const logger = options.logger ?? silentLogger
  const named = options.names !== undefined && options.names.length > 0
  const pagesPerStep = options.pagesPerStep ?? PAGES_PER_STEP
  if (!Number.isSafeInteger(pagesPerStep) || pagesPerStep < 1) {
    throw new EskitError('INVALID_ARGUMENT', 'pagesPerStep must be an integer >= 1', {
      details: { pagesPerStep },
    })
  }
  for (const name of options.names ?? []) assertProjectionName(name)
  if (!isDirectory(dir)) {
    throw new EskitError('NOT_FOUND', `projection directory ${dir} does not exist`, { details: { dir } })
  }
  if (sameDirectory(dir, out)) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      'the snapshot target must be another directory than its source',
      {
        details: { dir, out },
      },
    )
  }
  const names = named ? [...new Set(options.names)] : listProjections(dir)
  for (const name of names) {
    if (!fs.existsSync(projectionFilePath(dir, name))) {
      throw new EskitError('NOT_FOUND', `projection ${name} has no file in ${dir}`, {
        details: { dir, name },
      })
    }
  }
  const existing = names.flatMap((name) => {
    const target = projectionFilePath(out, name)
    return [target, ...SQLITE_COMPANION_SUFFIXES.map((suffix) => `${target}${suffix}`)].filter((f) =>
      fs.existsSync(f),
    )
  })
  if (existing.length > 0) {
    throw new EskitError(
      'ALREADY_EXISTS',
      `the snapshot target already holds ${existing.map((f) => path.basename(f)).join(', ')}: nothing was written (a snapshot never replaces a file)`,
      { details: { out, existing } },
    )
  }
  if (isDirectory(out) && isDirectoryOwned(out)) {
    throw new EskitError('LOCKED', `the snapshot target ${out} is owned by a running process`, {
      details: { out },
    })
  }
  const owned = isDirectoryOwned(dir)

  const created: string[] = []
  const createdFolders: string[] = []
  const makeFolder = (folder: string): void => {
    const missing: string[] = []
    for (let f = folder; !fs.existsSync(f); f = path.dirname(f)) missing.unshift(f)
    ensureDirectory(folder)
    createdFolders.push(...missing)
  }
  // A snapshot killed half-way leaves its temporary file in `{out}/.eskit/builds`, where a node
  // started on `out` deletes leftovers when it opens the directory.
  const staging = directoryLayout(out).builds
  const sizes = new Map(names.map((name) => [name, sourceSize(projectionFilePath(dir, name))]))
  let bytesTotal = [...sizes.values()].reduce((a, b) => a + b, 0)
  let bytesBefore = 0
  const projections: SnapshotFile[] = []
  const skipped: Array<{ name: string; problem: string }> = []
  const progress = (name: string, bytesDone: number): void => {
    options.onProgress?.({
      name,
      filesDone: projections.length + skipped.length,
      filesTotal: names.length,
      bytesDone,
      bytesTotal,
    })
  }
  try {
    makeFolder(out)
    makeFolder(staging)
    for (const name of names) {
      if (options.signal?.aborted) throw interrupted(out)
      const source = projectionFilePath(dir, name)
      const temp = path.join(staging, `${name}.snapshot-${randomBytes(6).toString('hex')}.db`)
      created.push(temp)
      let copied: CopiedFile
      try {
        copied = await copyFile({
          source,
          temp,
          name,
          out,
          owned,
          pagesPerStep,
          signal: options.signal,
          onSize(bytes) {
            bytesTotal += bytes - (sizes.get(name) ?? 0)
            sizes.set(name, bytes)
          },
          onStep: (bytes) => progress(name, bytesBefore + bytes),
        })
      } catch (error) {
        if (!(error instanceof Unusable)) throw error
        removeWithCompanions(temp)
        if (named) {
          throw new EskitError('CORRUPT', `projection file ${source} cannot be copied: ${error.message}`, {
            details: { dir, name, problem: error.message },
          })
        }
        logger.warn('not a valid projection file: left out of the snapshot', {
          name,
          file: source,
          problem: error.message,
        })
        skipped.push({ name, problem: error.message })
        bytesTotal -= sizes.get(name) ?? 0
        progress(name, bytesBefore)
        continue
      }
      if (options.signal?.aborted) throw interrupted(out)
      const target = projectionFilePath(out, name)
      try {
        // link, not rename: it fails when the name exists, so a file written meanwhile is never replaced
        fs.linkSync(temp, target)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new EskitError(
            'ALREADY_EXISTS',
            `${target} appeared while the snapshot ran: nothing was replaced`,
            {
              cause: error,
              details: { out, existing: [target] },
            },
          )
        }
        throw error
      }
      created.push(target)
      removeIfExists(temp)
      const bytes = fs.statSync(target).size
      projections.push({ name, file: target, ...copied.metadata, bytes, checksum: await checksumOf(target) })
      bytesTotal += bytes - (sizes.get(name) ?? 0)
      bytesBefore += bytes
      progress(name, bytesBefore)
    }
    removeEmptyFolders(createdFolders.filter((f) => f !== out))
    fsyncDirectory(out)
  } catch (error) {
    for (const file of created) removeWithCompanions(file)
    removeEmptyFolders(createdFolders)
    throw toEskitError(error, `could not snapshot ${dir} into ${out}`, { dir, out })
  }
  return {
    dir,
    out,
    owned,
    projections,
    skipped,
    totalBytes: projections.reduce((sum, p) => sum + p.bytes, 0),
    durationMs: performance.now() - started,
  }
}

function listProjections(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((entry) => projectionNameOf(entry) !== null && isFile(path.join(dir, entry)))
    .map((entry) => projectionNameOf(entry) as string)
    .sort()
}

function sourceSize(file: string): number {
  const size = (f: string): number => {
    try {
      return fs.statSync(f).size
    } catch {
      return 0
    }
  }
  return size(file) + size(`${file}-wal`)
}

function removeWithCompanions(file: string): void {
  try {
    removeIfExists(file)
    for (const suffix of SQLITE_COMPANION_SUFFIXES) removeIfExists(`${file}${suffix}`)
  } catch {
    // best effort while undoing a failed snapshot: the original error is what the caller sees
  }
}

/** Removes the folders this call created, deepest first, when they are empty. */
function removeEmptyFolders(folders: readonly string[]): void {
  for (const folder of [...folders].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(folder)
    } catch {
      // not empty (or already gone): kept
    }
  }
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory()
  } catch {
    return false
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

function sameDirectory(a: string, b: string): boolean {
  if (a === b) return true
  try {
    const sa = fs.statSync(a)
    const sb = fs.statSync(b)
    return sa.dev === sb.dev && sa.ino === sb.ino
  } catch {
    return false
  }
}

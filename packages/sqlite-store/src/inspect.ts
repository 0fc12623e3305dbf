import fs from 'node:fs'
import path from 'node:path'
import { EskitError } from '@eskit/core'
import { readFileHeader } from './file-header.js'
import { directoryLayout, projectionNameOf } from './layout.js'
import { METADATA_TABLE, readProjectionMetadata } from './metadata.js'
import { isDirectoryOwned } from './ownership.js'
import {
  openDirectReader,
  openSharedMemoryReader,
  type QueryConnection,
  withPrivateCopy,
} from './read-only-connection.js'
import { type PublishedStatus, readStatusFile } from './status-file.js'

/**
 * One projection file as found on disk. The metadata fields are `null` when the file is not built
 * yet (`built: false`, no `problem`) or has a `problem` (not SQLite, not an eskit projection,
 * unreadable), which the store would move aside.
 *
 * @example
 * ```ts
 * const info: ProjectionFileInfo = readProjectionFile('data/projections/passes.pass_view.db')
 * if (info.problem !== null) logger.warn('would be moved aside', { problem: info.problem })
 * ```
 */
export interface ProjectionFileInfo {
  /** The projection name, from the file name. */
  readonly name: string
  readonly file: string
  /** Size of the file plus its `-wal`, in bytes. */
  readonly sizeBytes: number
  /**
   * `true` when the file holds a built projection (its metadata row). `false` for a file the store
   * has not built into yet, which it reuses as it is (not a problem): a 0-byte file, or one with
   * only eskit's empty tables (a first build whose `setup` failed or has not run) — and for a
   * file with a `problem`.
   */
  readonly built: boolean
  readonly version: string | null
  readonly logId: string | null
  readonly position: number | null
  readonly formatVersion: number | null
  readonly builtAt: string | null
  /** Why the file cannot be served, or `null` when it is a valid (or not yet built) projection file. */
  readonly problem: string | null
}

/**
 * A projection directory as found on disk, from {@link inspectDirectory}.
 *
 * @example
 * ```ts
 * const info: DirectoryInfo = inspectDirectory('data/projections')
 * logger.info('directory', { owned: info.owned, projections: info.projections.length, quarantined: info.quarantined })
 * ```
 */
export interface DirectoryInfo {
  readonly dir: string
  /** True when a live process holds the directory's ownership lock. */
  readonly owned: boolean
  /** What the owner published last (may be stale when `owned` is false). */
  readonly status: PublishedStatus | null
  /** Every `{name}.db`, sorted by name. */
  readonly projections: readonly ProjectionFileInfo[]
  /** Builds in progress (or left by a crash), under `.eskit/builds/`. */
  readonly builds: readonly string[]
  /** Files moved aside, under `.eskit/quarantine/`. */
  readonly quarantined: readonly string[]
}

const sizeOf = (file: string): number => {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

/** A SQLite error that a read-only connection gives where recovery or locks would need a write. */
const needsWrite = (error: unknown): boolean =>
  /^SQLITE_(READONLY|BUSY|CANTOPEN)/.test(String((error as { code?: unknown }).code)) ||
  /^ERR_SQLITE/.test(String((error as { code?: unknown }).code))

/**
 * Reads a projection file's metadata **read-only**: it never modifies the file or its `-wal` and
 * `-shm` (bytes and modification times stay the same), takes no write lock and creates nothing.
 * A file in WAL mode with its companions (an owner runs, or was killed) is read under SQLite's
 * shared locks with the `-shm` opened read-only (Node's built-in SQLite; on a Node without it, a
 * private copy); one that needs recovery after a crash, or a WAL-mode file without its
 * companions, is read through a private temporary copy. Works while the owning process runs.
 * Throws `NOT_FOUND` when the file does not exist; every other problem is reported in `problem`.
 *
 * @example
 * ```ts
 * const info = readProjectionFile('data/projections/passes.pass_view.db')
 * logger.info('projection file', { version: info.version, position: info.position, problem: info.problem })
 * ```
 */
export function readProjectionFile(file: string): ProjectionFileInfo {
  const fileName = path.basename(file)
  const name = projectionNameOf(fileName) ?? fileName
  const header = readFileHeader(file)
  if (header.kind === 'missing') {
    throw new EskitError('NOT_FOUND', `projection file ${file} does not exist`, { details: { file } })
  }
  const sizeBytes = sizeOf(file) + sizeOf(`${file}-wal`)
  const base = { name, file, sizeBytes, ...EMPTY }
  if (header.kind === 'not-sqlite') {
    // the store replaces a 0-byte file (left by a crash before its first page) with a new one
    if (sizeOf(file) === 0) return { ...base, problem: null }
    return { ...base, problem: header.reason }
  }
  try {
    return readWithoutWriting(file, header.wal, (db) => describe(db, base))
  } catch (error) {
    return { ...base, problem: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * Runs `read` on a read-only connection that sees `file`'s committed data without modifying the
 * file or its companions: the file itself (under shared locks), its WAL through a read-only
 * `-shm`, or a private copy when recovery would need a write. The connection is closed after.
 */
export function readWithoutWriting<T>(file: string, wal: boolean, read: (db: QueryConnection) => T): T {
  const using = (db: QueryConnection): T => {
    try {
      return read(db)
    } finally {
      db.close()
    }
  }
  if (!wal) {
    try {
      return using(openDirectReader(file))
    } catch (error) {
      // left by a crash: a hot journal to roll back, which a read-only connection may not do
      if (!needsWrite(error)) throw error
    }
  } else if (fs.existsSync(`${file}-wal`) && fs.existsSync(`${file}-shm`)) {
    try {
      const shared = openSharedMemoryReader(file)
      if (shared !== null) return using(shared)
    } catch (error) {
      // a WAL index that needs recovery (a killed owner), or locks it cannot take: read a copy
      if (!needsWrite(error)) throw error
    }
  }
  return withPrivateCopy(file, (copy) => using(openDirectReader(copy)))
}

const EMPTY = {
  built: false,
  version: null,
  logId: null,
  position: null,
  formatVersion: null,
  builtAt: null,
  problem: null,
} as const

type Base = Pick<ProjectionFileInfo, 'name' | 'file' | 'sizeBytes'> & typeof EMPTY

function describe(db: QueryConnection, base: Base): ProjectionFileInfo {
  const objects = db.prepare('select count(*) as n from sqlite_master').get() as { n: number }
  if (objects.n === 0) return base
  const hasMetadata = db
    .prepare(`select 1 as found from sqlite_master where type = 'table' and name = ?`)
    .get(METADATA_TABLE)
  // created by the store and never initialised (a first setup that failed): reused as it is
  if (hasMetadata !== undefined && db.prepare(`select 1 as found from ${METADATA_TABLE}`).get() === undefined)
    return base
  const metadata = readProjectionMetadata(db)
  if (metadata.name !== base.name) {
    return { ...base, problem: `foreign file: it holds projection ${JSON.stringify(metadata.name)}` }
  }
  return {
    ...base,
    built: true,
    version: metadata.version,
    logId: metadata.logId,
    position: metadata.position,
    formatVersion: metadata.formatVersion,
    builtAt: metadata.builtAt,
  }
}

/**
 * Lists a projection directory read-only: each projection file with its metadata (or problem),
 * whether a process owns the directory, the status it published, builds and quarantined files.
 * Loads no application code. Throws `NOT_FOUND` when `dir` does not exist.
 *
 * @example
 * ```ts
 * const info = inspectDirectory('data/projections')
 * for (const p of info.projections) logger.info('projection file', { name: p.name, version: p.version, position: p.position, bytes: p.sizeBytes })
 * ```
 */
export function inspectDirectory(dir: string): DirectoryInfo {
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch (error) {
    throw new EskitError('NOT_FOUND', `projection directory ${dir} does not exist or cannot be read`, {
      cause: error,
      details: { dir },
    })
  }
  const layout = directoryLayout(dir)
  const projections: ProjectionFileInfo[] = []
  for (const entry of entries.sort()) {
    if (projectionNameOf(entry) === null) continue
    const file = path.join(dir, entry)
    try {
      if (!fs.statSync(file).isFile()) continue
      projections.push(readProjectionFile(file))
    } catch {
      // removed between readdir and read (a rebuild in progress): not listed
    }
  }
  const list = (folder: string): string[] => {
    try {
      return fs
        .readdirSync(folder)
        .filter((f) => !f.startsWith('.'))
        .sort()
    } catch {
      return []
    }
  }
  return {
    dir,
    owned: isDirectoryOwned(dir),
    status: readStatusFile(dir),
    projections,
    builds: list(layout.builds).filter((f) => f.endsWith('.db')),
    quarantined: list(layout.quarantine),
  }
}

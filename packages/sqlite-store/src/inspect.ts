import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { EskitError } from '@eskit/core'
import Database from 'better-sqlite3'
import { readFileHeader } from './file-header.js'
import { directoryLayout, projectionNameOf } from './layout.js'
import { readProjectionMetadata } from './metadata.js'
import { isDirectoryOwned } from './ownership.js'
import { type PublishedStatus, readStatusFile } from './status-file.js'

/**
 * One projection file as found on disk. The metadata fields are `null` when the file has a
 * `problem` (not SQLite, not an eskit projection, unreadable), which the store would move aside.
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
  readonly version: string | null
  readonly logId: string | null
  readonly position: number | null
  readonly formatVersion: number | null
  readonly builtAt: string | null
  /** Why the file cannot be served, or `null` when it is a valid projection file. */
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

/**
 * Reads a projection file's metadata **read-only**: it never modifies the file, never takes a
 * write lock and creates no `-wal`/`-shm` (a WAL-mode file without its companions is read
 * through a temporary copy, because SQLite would create them). Works while the owning process
 * runs. Throws `NOT_FOUND` when the file does not exist; every other problem is reported in
 * `problem`.
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
  const empty = EMPTY
  const header = readFileHeader(file)
  if (header.kind === 'missing') {
    throw new EskitError('NOT_FOUND', `projection file ${file} does not exist`, { details: { file } })
  }
  const sizeBytes = sizeOf(file) + sizeOf(`${file}-wal`)
  if (header.kind === 'not-sqlite') return { name, file, sizeBytes, ...empty, problem: header.reason }
  try {
    return readWithoutWriting(file, header.wal, (source) => describe(source, file, name, sizeBytes))
  } catch (error) {
    return {
      name,
      file,
      sizeBytes,
      ...empty,
      problem: error instanceof Error ? error.message : String(error),
    }
  }
}

const EMPTY = { version: null, logId: null, position: null, formatVersion: null, builtAt: null }

function describe(source: string, file: string, name: string, sizeBytes: number): ProjectionFileInfo {
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 2000 })
  try {
    const metadata = readProjectionMetadata(db)
    if (metadata.name !== name) {
      return {
        name,
        file,
        sizeBytes,
        ...EMPTY,
        problem: `foreign file: it holds projection ${JSON.stringify(metadata.name)}`,
      }
    }
    return {
      name,
      file,
      sizeBytes,
      version: metadata.version,
      logId: metadata.logId,
      position: metadata.position,
      formatVersion: metadata.formatVersion,
      builtAt: metadata.builtAt,
      problem: null,
    }
  } finally {
    db.close()
  }
}

/**
 * Runs `read` on a source that holds `file`'s committed data without modifying `file`: the file
 * itself, or a private copy when reading it directly would make SQLite write beside it.
 */
export function readWithoutWriting<T>(file: string, wal: boolean, read: (source: string) => T): T {
  // SQLite would create -wal/-shm beside a WAL-mode file read without them: read a copy instead
  const direct = !wal || (fs.existsSync(`${file}-wal`) && fs.existsSync(`${file}-shm`))
  if (direct) {
    try {
      return read(file)
    } catch (error) {
      // left by a crash: a hot journal or a WAL to recover, which a read-only connection may not do
      if (!/^SQLITE_READONLY/.test(String((error as { code?: unknown }).code))) throw error
    }
  }
  return withCopy(file, read)
}

/**
 * Runs `read` on a private copy of `file` and its journals, so recovery (rolling back a hot
 * journal, replaying a WAL) happens in the copy and the original is left exactly as it is.
 */
function withCopy<T>(file: string, read: (copy: string) => T): T {
  const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-inspect-'))
  try {
    const copy = path.join(copyDir, 'copy.db')
    fs.copyFileSync(file, copy)
    for (const suffix of ['-wal', '-journal']) {
      if (fs.existsSync(`${file}${suffix}`)) fs.copyFileSync(`${file}${suffix}`, `${copy}${suffix}`)
    }
    // a writable connection on the copy performs any recovery the copy needs
    new Database(copy, { fileMustExist: true }).close()
    return read(copy)
  } finally {
    fs.rmSync(copyDir, { recursive: true, force: true })
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

import path from 'node:path'
import { assertProjectionName } from '@eskit/core'

/**
 * The folder inside a projection directory that holds every helper file. Its name starts with
 * `.`, which a projection name never does, so it can never be mistaken for a projection.
 *
 * @example
 * ```ts
 * fs.readdirSync(dir).filter((f) => f !== ESKIT_FOLDER)
 * ```
 */
export const ESKIT_FOLDER = '.eskit'

/**
 * The extension of a projection file: `{dir}/{name}.db`.
 *
 * @example
 * ```ts
 * `${name}${PROJECTION_FILE_EXTENSION}` // 'passes.db'
 * ```
 */
export const PROJECTION_FILE_EXTENSION = '.db'

/**
 * The companion files SQLite may keep beside a database file.
 *
 * @example
 * ```ts
 * for (const suffix of SQLITE_COMPANION_SUFFIXES) fs.rmSync(`${file}${suffix}`, { force: true })
 * ```
 */
export const SQLITE_COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'] as const

/**
 * Every path of a projection directory's layout (see the README's "Layout").
 *
 * @example
 * ```ts
 * const layout: DirectoryLayout = directoryLayout('data/projections')
 * fs.readdirSync(layout.quarantine)
 * ```
 */
export interface DirectoryLayout {
  /** The projection directory itself. */
  readonly dir: string
  /** `{dir}/.eskit`: every helper file lives under it. */
  readonly eskit: string
  /** `{dir}/.eskit/owner.lock`: a SQLite file held with an exclusive lock by the owning process. */
  readonly lock: string
  /** `{dir}/.eskit/builds`: builds in progress, `{name}.{id}.db`; leftovers are deleted on open. */
  readonly builds: string
  /** `{dir}/.eskit/requests`: rebuild requests from outside the process, `{id}.json`. */
  readonly requests: string
  /** `{dir}/.eskit/results`: the outcome of each request, `{id}.json`. */
  readonly results: string
  /** `{dir}/.eskit/status.json`: the status the owning process publishes. */
  readonly status: string
  /** `{dir}/.eskit/quarantine`: corrupt or foreign files moved aside, `{name}.{timestamp}.db`. */
  readonly quarantine: string
}

/**
 * The paths of a projection directory's layout.
 *
 * @example
 * ```ts
 * const { lock, status } = directoryLayout('data/projections')
 * // lock: 'data/projections/.eskit/owner.lock'
 * ```
 */
export function directoryLayout(dir: string): DirectoryLayout {
  const eskit = path.join(dir, ESKIT_FOLDER)
  return {
    dir,
    eskit,
    lock: path.join(eskit, 'owner.lock'),
    builds: path.join(eskit, 'builds'),
    requests: path.join(eskit, 'requests'),
    results: path.join(eskit, 'results'),
    status: path.join(eskit, 'status.json'),
    quarantine: path.join(eskit, 'quarantine'),
  }
}

/**
 * The live file of a projection: `{dir}/{name}.db`. Validates the name first (`INVALID_NAME`).
 *
 * @example
 * ```ts
 * projectionFilePath('data/projections', 'passes.pass_view') // 'data/projections/passes.pass_view.db'
 * ```
 */
export function projectionFilePath(dir: string, name: string): string {
  assertProjectionName(name)
  return path.join(dir, `${name}${PROJECTION_FILE_EXTENSION}`)
}

/**
 * The projection name of a file name in a projection directory (`passes.db` → `passes`), or
 * `null` when the file is not a projection file (helper files, SQLite companions, other files).
 *
 * @example
 * ```ts
 * projectionNameOf('passes.pass_view.db') // 'passes.pass_view'
 * projectionNameOf('passes.pass_view.db-wal') // null
 * ```
 */
export function projectionNameOf(fileName: string): string | null {
  if (!fileName.endsWith(PROJECTION_FILE_EXTENSION)) return null
  const name = fileName.slice(0, -PROJECTION_FILE_EXTENSION.length)
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(name) ? name : null
}

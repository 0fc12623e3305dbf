import fs from 'node:fs'
import { toEskitError } from '@eskit/core/sqlite'
import { projectionFilePath, SQLITE_COMPANION_SUFFIXES } from './layout.js'
import { acquireOwnership } from './ownership.js'

/**
 * Deletes a projection's file (and its `-wal`/`-shm`/`-journal`) so the next start rebuilds it,
 * for when **no** process owns the directory (`eskit rebuild` offline). Holds the ownership lock
 * while deleting, so it throws `LOCKED` instead of pulling a file from under a running owner;
 * ask the owner with `requestRebuild` then. Returns false when there was no file.
 *
 * @example
 * ```ts
 * if (!isDirectoryOwned(dir)) removeProjectionFile(dir, 'passes.pass_view')
 * ```
 */
export function removeProjectionFile(dir: string, name: string): boolean {
  const file = projectionFilePath(dir, name)
  const lock = acquireOwnership(dir)
  try {
    const existed = fs.existsSync(file)
    // main file first: companions left by a crash here are discarded when the file is recreated
    fs.rmSync(file, { force: true })
    for (const suffix of SQLITE_COMPANION_SUFFIXES) fs.rmSync(`${file}${suffix}`, { force: true })
    return existed
  } catch (error) {
    throw toEskitError(error, `could not remove projection file ${file}`, { dir, name })
  } finally {
    lock.release()
  }
}

import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import { ensureDirectory } from './ensure-directory.js'
import { type DirectoryLayout, SQLITE_COMPANION_SUFFIXES } from './layout.js'

/**
 * Moves a projection file that cannot be trusted (not SQLite, not an eskit projection, damaged)
 * and its SQLite companions to `.eskit/quarantine/{name}.{timestamp}.db`, with a warning.
 * Nothing is deleted: an operator can inspect the file later. Returns the new path.
 */
export function quarantineFile(
  layout: DirectoryLayout,
  name: string,
  file: string,
  reason: string,
  logger: Logger,
): string {
  try {
    ensureDirectory(layout.quarantine)
    const stamp = new Date().toISOString().replace(/[:.]/g, '-')
    let target = path.join(layout.quarantine, `${name}.${stamp}.db`)
    for (let n = 1; fs.existsSync(target); n++)
      target = path.join(layout.quarantine, `${name}.${stamp}.${n}.db`)
    fs.renameSync(file, target)
    for (const suffix of SQLITE_COMPANION_SUFFIXES) {
      if (fs.existsSync(`${file}${suffix}`)) fs.renameSync(`${file}${suffix}`, `${target}${suffix}`)
    }
    logger.warn('projection file moved aside and will be rebuilt', { name, file, movedTo: target, reason })
    return target
  } catch (error) {
    throw toEskitError(error, `could not move the untrusted projection file ${file} aside`, {
      name,
      file,
      reason,
    })
  }
}

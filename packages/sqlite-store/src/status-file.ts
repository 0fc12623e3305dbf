import fs from 'node:fs'
import path from 'node:path'
import type { ProjectionStatus } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import { ensureDirectory } from './ensure-directory.js'
import { directoryLayout } from './layout.js'

/**
 * What the owning process publishes in `{dir}/.eskit/status.json`.
 *
 * @example
 * ```ts
 * const status: PublishedStatus | null = readStatusFile('data/projections')
 * if (status !== null && isDirectoryOwned('data/projections')) logger.info('owner', { pid: status.pid, projections: status.projections.length })
 * ```
 */
export interface PublishedStatus {
  /** Process id of the owner that wrote it. */
  readonly pid: number
  /** When it was written (ISO 8601). */
  readonly updatedAt: string
  readonly projections: readonly ProjectionStatus[]
}

/**
 * Writes `{dir}/.eskit/status.json` atomically (temporary file + rename), so a reader never
 * sees half a file.
 *
 * @example
 * ```ts
 * writeStatusFile(dir, collector.status())
 * ```
 */
export function writeStatusFile(dir: string, projections: readonly ProjectionStatus[]): void {
  const layout = directoryLayout(dir)
  const status: PublishedStatus = { pid: process.pid, updatedAt: new Date().toISOString(), projections }
  const temporary = path.join(layout.eskit, `.status.${process.pid}.tmp`)
  try {
    ensureDirectory(layout.eskit)
    fs.writeFileSync(temporary, `${JSON.stringify(status, null, 2)}\n`)
    fs.renameSync(temporary, layout.status)
  } catch (error) {
    fs.rmSync(temporary, { force: true })
    throw toEskitError(error, `could not write ${layout.status}`, { dir })
  }
}

/**
 * Reads `{dir}/.eskit/status.json`, or `null` when there is none or it cannot be parsed.
 * The status may be stale: check `isDirectoryOwned(dir)` to know whether its writer still runs.
 *
 * @example
 * ```ts
 * const status = readStatusFile(dir)
 * for (const p of status?.projections ?? []) logger.info('projection', { name: p.name, state: p.state })
 * ```
 */
export function readStatusFile(dir: string): PublishedStatus | null {
  let text: string
  try {
    text = fs.readFileSync(directoryLayout(dir).status, 'utf8')
  } catch {
    return null
  }
  try {
    const parsed = JSON.parse(text) as Partial<PublishedStatus> | null
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      typeof parsed.pid !== 'number' ||
      typeof parsed.updatedAt !== 'string' ||
      !Array.isArray(parsed.projections)
    ) {
      return null
    }
    return parsed as PublishedStatus
  } catch {
    return null
  }
}

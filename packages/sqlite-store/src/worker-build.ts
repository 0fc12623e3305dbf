import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import type { Projection, ProjectionSlot, WorkerSource } from '@eskit/core'
import { EskitError } from '@eskit/core'
import type Database from 'better-sqlite3'
import { createFileSlot } from './file-slot.js'

/**
 * Options a worker thread gets to open a lent build (see {@link openWorkerBuild}).
 *
 * @example
 * ```ts
 * const options: WorkerBuildOptions = { file: '/app/data/projections/.eskit/builds/passes.3f2a.db', busyTimeoutMs: 5000 }
 * ```
 */
export interface WorkerBuildOptions {
  /** The build file under `{dir}/.eskit/builds/`. */
  readonly file: string
  readonly busyTimeoutMs: number
}

/**
 * Opens, inside a worker thread, a build that a `sqliteStore` lent to it: a slot on the build file
 * with the same batch commit (checkpoint compare-and-swap) as on the main thread. The collector's
 * build workers call it; applications do not need to.
 *
 * @example
 * ```ts
 * const slot = openWorkerBuild({ file, busyTimeoutMs: 5000 }, passView)
 * await slot.commit({ from: 0, to: 1000, events: batch })
 * await slot.close()
 * ```
 */
export function openWorkerBuild(
  options: WorkerBuildOptions,
  projection: Projection<Database.Database>,
): ProjectionSlot {
  if (typeof options?.file !== 'string' || !Number.isSafeInteger(options.busyTimeoutMs)) {
    throw new EskitError('INVALID_ARGUMENT', 'openWorkerBuild needs { file, busyTimeoutMs }')
  }
  const slot = createFileSlot({
    projection,
    file: options.file,
    mode: 'build',
    busyTimeoutMs: options.busyTimeoutMs,
  })
  return {
    name: slot.name,
    state: () => slot.state(),
    initialize: (init) => slot.initialize(init),
    commit: (batch) => slot.commit(batch),
    parked: () => slot.parked(),
    close: () => slot.close(),
  }
}

let selfUrl: string | null | undefined

/** Where a worker imports this package from: its own published entry, or null if unresolvable. */
function packageUrl(): string | null {
  if (selfUrl !== undefined) return selfUrl
  try {
    selfUrl = pathToFileURL(createRequire(import.meta.url).resolve('@eskit/sqlite-store')).href
  } catch {
    selfUrl = null
  }
  return selfUrl
}

/** How a worker opens the build `file` (null when this package cannot be located for a worker). */
export function workerBuildSource(file: string, busyTimeoutMs: number): WorkerSource | null {
  const module = packageUrl()
  if (module === null) return null
  const options: WorkerBuildOptions = { file, busyTimeoutMs }
  return { module, export: 'openWorkerBuild', options }
}

import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Logger, StoreRequest } from '@eskit/core'
import { assertProjectionName, EskitError, isValidProjectionName } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import { ensureDirectory } from './ensure-directory.js'
import { directoryLayout } from './layout.js'

/**
 * The content of a request file `{dir}/.eskit/requests/{id}.json`.
 *
 * @example
 * ```ts
 * const request = JSON.parse(fs.readFileSync(file, 'utf8')) as RebuildRequestFile
 * logger.info('rebuild requested', { name: request.name, requestedAt: request.requestedAt })
 * ```
 */
export interface RebuildRequestFile {
  readonly type: 'rebuild'
  readonly id: string
  readonly name: string
  /** When it was written (ISO 8601). */
  readonly requestedAt: string
}

/**
 * Where a rebuild request stands:
 * - `pending`: written, not yet picked up (no process owns the directory, or it has not polled yet);
 * - `accepted`: the owning process took it and is rebuilding (progress is in `status.json`);
 * - `done`: the rebuilt projection is live (`position` is where it stood);
 * - `failed`: the projection failed after the request was taken, in the rebuild or in a first
 *   build still under way (`message` is the projection's error);
 * - `rejected`: the owning process has no projection of that name;
 * - `closed`: the owning process stopped (gracefully) before the rebuild completed; the next
 *   start does not resume it.
 *
 * @example
 * ```ts
 * const done: RequestState[] = ['done', 'failed', 'rejected', 'closed']
 * if (done.includes(readRequestResult(dir, id)?.state ?? 'pending')) stopWaiting()
 * ```
 */
export type RequestState = 'pending' | 'accepted' | 'done' | 'failed' | 'rejected' | 'closed'

/**
 * The outcome of a request, in `{dir}/.eskit/results/{id}.json` once the owner took it.
 *
 * @example
 * ```ts
 * const result: RequestResult | null = readRequestResult('data/projections', id)
 * if (result?.state === 'done') logger.info('live', { position: result.position })
 * ```
 */
export interface RequestResult {
  readonly id: string
  readonly name: string
  readonly state: RequestState
  readonly message?: string
  readonly position?: number
  /** When the state was written (ISO 8601). */
  readonly updatedAt: string
}

const REQUEST_ID = /^[a-z0-9]{1,16}-[a-f0-9]{12}$/
let sequence = Math.floor(Math.random() * 0x8000)

/**
 * Asks the process that owns `dir` to rebuild one projection with no read downtime: writes
 * `{dir}/.eskit/requests/{id}.json` atomically and returns the id. The owner (a collector on
 * `sqliteStore`) polls the folder, rebuilds beside the live file and reports in
 * `{dir}/.eskit/results/{id}.json`; follow it with {@link readRequestResult} and the progress in
 * `readStatusFile(dir)`. Throws `INVALID_NAME` for a bad name and `NOT_FOUND` when `dir` does
 * not exist.
 *
 * @example
 * ```ts
 * const id = requestRebuild('data/projections', 'passes.pass_view')
 * // later
 * readRequestResult('data/projections', id)?.state // 'pending' | 'accepted' | 'done' | ...
 * ```
 */
export function requestRebuild(dir: string, name: string): string {
  assertProjectionName(name)
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new EskitError('NOT_FOUND', `projection directory ${dir} does not exist`, { details: { dir } })
  }
  const layout = directoryLayout(dir)
  // time, then a per-process counter: ids sort in request order, also within one millisecond
  sequence = (sequence + 1) % 0x10000
  const id = `${Date.now().toString(36)}-${sequence.toString(16).padStart(4, '0')}${randomBytes(4).toString('hex')}`
  const request: RebuildRequestFile = { type: 'rebuild', id, name, requestedAt: new Date().toISOString() }
  // Written under a dot name and renamed, so the owner never reads half a request.
  const temporary = path.join(layout.requests, `.${id}.tmp`)
  try {
    ensureDirectory(layout.requests)
    fs.writeFileSync(temporary, JSON.stringify(request))
    fs.renameSync(temporary, path.join(layout.requests, `${id}.json`))
  } catch (error) {
    fs.rmSync(temporary, { force: true })
    throw toEskitError(error, `could not write a rebuild request in ${dir}`, { dir, name })
  }
  return id
}

/**
 * The state of a request made with {@link requestRebuild}: its result file when the owner has
 * taken it, `pending` while the request file waits, `null` for an unknown id.
 *
 * @example
 * ```ts
 * const result = readRequestResult(dir, id)
 * if (result?.state === 'done') logger.info('rebuilt', { position: result.position })
 * ```
 */
export function readRequestResult(dir: string, id: string): RequestResult | null {
  if (!REQUEST_ID.test(id)) return null
  const layout = directoryLayout(dir)
  try {
    const parsed = JSON.parse(
      fs.readFileSync(path.join(layout.results, `${id}.json`), 'utf8'),
    ) as RequestResult
    if (parsed && typeof parsed === 'object' && parsed.id === id && typeof parsed.state === 'string')
      return parsed
  } catch {
    // no result yet: the request may still wait in requests/
  }
  try {
    const request = JSON.parse(
      fs.readFileSync(path.join(layout.requests, `${id}.json`), 'utf8'),
    ) as RebuildRequestFile
    return { id, name: String(request.name), state: 'pending', updatedAt: String(request.requestedAt) }
  } catch {
    return null
  }
}

/**
 * Writes the result file of a request atomically. Used by the owning store.
 *
 * @example
 * ```ts
 * writeRequestResult(dir, { id, name, state: 'accepted', updatedAt: new Date().toISOString() })
 * ```
 */
export function writeRequestResult(dir: string, result: RequestResult): void {
  const layout = directoryLayout(dir)
  const temporary = path.join(layout.results, `.${result.id}.tmp`)
  try {
    ensureDirectory(layout.results)
    fs.writeFileSync(temporary, JSON.stringify(result))
    fs.renameSync(temporary, path.join(layout.results, `${result.id}.json`))
  } catch (error) {
    fs.rmSync(temporary, { force: true })
    throw toEskitError(error, `could not write the result of request ${result.id}`, { dir, id: result.id })
  }
}

/**
 * Reads and removes every request file in `{dir}/.eskit/requests/`, oldest first. Files that are
 * not valid requests are removed with a warning. Used by the owning store's `takeRequests()`.
 *
 * @example
 * ```ts
 * for (const request of takeRequestFiles(dir, logger)) await collector.rebuild(request.name)
 * ```
 */
export function takeRequestFiles(dir: string, logger: Logger): StoreRequest[] {
  const layout = directoryLayout(dir)
  let names: string[]
  try {
    names = fs.readdirSync(layout.requests)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw toEskitError(error, `could not read ${layout.requests}`, { dir })
  }
  const requests: StoreRequest[] = []
  // ids start with a base-36 timestamp of fixed width for decades: name order is time order
  for (const fileName of names.sort()) {
    if (fileName.startsWith('.')) continue // a request still being written
    const file = path.join(layout.requests, fileName)
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
      fs.rmSync(file, { force: true })
    } catch (error) {
      logger.warn('could not read a rebuild request', { file, error: (error as Error).message })
      continue
    }
    const id = fileName.endsWith('.json') ? fileName.slice(0, -'.json'.length) : ''
    let parsed: Partial<RebuildRequestFile> | null = null
    try {
      parsed = JSON.parse(text) as Partial<RebuildRequestFile>
    } catch {
      parsed = null
    }
    if (
      !REQUEST_ID.test(id) ||
      parsed === null ||
      typeof parsed !== 'object' ||
      parsed.type !== 'rebuild' ||
      parsed.id !== id ||
      !isValidProjectionName(parsed.name)
    ) {
      logger.warn('ignoring an invalid rebuild request file', { file })
      continue
    }
    requests.push({ type: 'rebuild', id, name: parsed.name })
  }
  return requests
}

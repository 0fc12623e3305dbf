import fs from 'node:fs'
import path from 'node:path'
import { EskitError, isEskitError, isValidProjectionName } from '@eskit/core'
import {
  isDirectoryOwned,
  type PublishedStatus,
  type RequestResult,
  type RequestState,
  readRequestResult,
  readStatusFile,
  requestRebuild,
} from '@eskit/sqlite-store'
import {
  directoryLayout,
  projectionFilePath,
  projectionNameOf,
  removeProjectionFile,
  SQLITE_COMPANION_SUFFIXES,
} from '@eskit/sqlite-store/files'

/**
 * Options of {@link rebuildProjection}.
 *
 * @example
 * ```ts
 * const options: RebuildOptions = { dir: 'data/projections', name: 'passes.pass_view', wait: true, timeoutMs: 600_000 }
 * ```
 */
export interface RebuildOptions {
  dir: string
  name: string
  /** When a process owns the directory: wait until the rebuilt projection is swapped in. */
  wait?: boolean
  /** Give up waiting after this long (`TIMEOUT`); the owner goes on with the rebuild. */
  timeoutMs?: number
  /** Aborting stops waiting (the outcome says `interrupted`); the owner goes on with the rebuild. */
  signal?: AbortSignal
  /** How often the request and the published status are read while waiting. Default 200 ms. */
  pollMs?: number
  /** Called while waiting with what the owner publishes about the rebuild. */
  onProgress?: (progress: RebuildProgress) => void
  /** Called once when the request was written, before waiting. */
  onRequested?: (request: { id: string; ownerPid: number | null }) => void
}

/**
 * The rebuild's progress as the owning process publishes it.
 *
 * @example
 * ```ts
 * await rebuildProjection({ dir, name, wait: true, onProgress: (p: RebuildProgress) => console.log(p.position, p.target) })
 * ```
 */
export interface RebuildProgress {
  /** Where the request stands. */
  state: RequestState
  /** Events applied by the rebuild so far, and the log head it builds up to (0 until it starts). */
  position: number
  target: number
  eventsPerSecond: number
  etaMs: number
}

/**
 * What `eskit rebuild` did (`--json` prints it).
 *
 * @example
 * ```ts
 * const outcome: RebuildOutcome = await rebuildProjection({ dir, name: 'passes.pass_view' })
 * if (outcome.action === 'deleted') console.log('rebuilt at the next start')
 * ```
 */
export interface RebuildOutcome {
  name: string
  /** The directory, as an absolute path. */
  dir: string
  /**
   * `deleted`: no process owned the directory; the projection's files were deleted and the next
   * start rebuilds it. `requested`: the owning process was asked to rebuild it with no downtime.
   */
  action: 'deleted' | 'requested'
  /** The files deleted (`deleted` only). */
  deleted: string[]
  /** The request id (`requested` only). */
  requestId: string | null
  /** Where the request stood at the end: `done` after a successful `--wait`. */
  state: RequestState | null
  /** The position the rebuilt projection stood at when swapped in (`done` only). */
  position: number | null
  /** True when waiting was stopped (Ctrl-C) before the rebuild ended. */
  interrupted: boolean
  durationMs: number
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

/**
 * Rebuilds one projection of a per-file directory (behaviour 15). When no process owns `dir`,
 * deletes `{dir}/{name}.db` and its `-wal`/`-shm`/`-journal` only, so the next start rebuilds just
 * that projection. When a process owns it, writes a rebuild request that the owner picks up: it
 * builds beside the live file and swaps it in with no read downtime; with `wait` this follows
 * the published progress until the new file is live.
 *
 * Throws, with nothing touched: `INVALID_NAME` for a bad name, `NOT_FOUND` for a missing
 * directory or a projection with no file that the owner does not know. While waiting: `FAILED`
 * when the owner rejects or fails the rebuild, `CLOSED` when it stops first, `TIMEOUT` after
 * `timeoutMs`.
 *
 * @example
 * ```ts
 * const outcome = await rebuildProjection({ dir: 'data/projections', name: 'passes.pass_view', wait: true })
 * console.log(outcome.action, outcome.state) // 'requested' 'done' while the app runs; 'deleted' null otherwise
 * ```
 */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildOutcome> {
  const started = performance.now()
  const { name } = options
  if (!isValidProjectionName(name)) {
    throw new EskitError(
      'INVALID_NAME',
      `invalid projection name ${JSON.stringify(name)}: 1-128 characters of A-Z a-z 0-9 . _ -, not starting with "."`,
      { details: { name } },
    )
  }
  const dir = path.resolve(options.dir)
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new EskitError('NOT_FOUND', `projection directory ${dir} does not exist`, { details: { dir } })
  }
  const file = projectionFilePath(dir, name)
  const base = { name, dir }
  if (!isDirectoryOwned(dir)) {
    if (!fs.existsSync(file)) throw unknownProjection(dir, name, null)
    const present = [file, ...SQLITE_COMPANION_SUFFIXES.map((suffix) => `${file}${suffix}`)].filter((f) =>
      fs.existsSync(f),
    )
    try {
      removeProjectionFile(dir, name)
      return {
        ...base,
        action: 'deleted',
        deleted: present,
        requestId: null,
        state: null,
        position: null,
        interrupted: false,
        durationMs: Math.round(performance.now() - started),
      }
    } catch (error) {
      // A process took the directory between the check and the delete: ask it instead.
      if (!isEskitError(error, 'LOCKED')) throw error
    }
  }
  const status = readStatusFile(dir)
  if (!fs.existsSync(file) && !status?.projections.some((p) => p.name === name)) {
    throw unknownProjection(dir, name, status)
  }
  const id = requestRebuild(dir, name)
  options.onRequested?.({ id, ownerPid: status?.pid ?? null })
  const requested = {
    ...base,
    action: 'requested' as const,
    deleted: [],
    requestId: id,
  }
  if (options.wait !== true) {
    return {
      ...requested,
      state: readRequestResult(dir, id)?.state ?? 'pending',
      position: null,
      interrupted: false,
      durationMs: Math.round(performance.now() - started),
    }
  }
  const result = await waitForRequest(dir, id, name, options, started)
  return {
    ...requested,
    state: result.state,
    position: result.position ?? null,
    interrupted: result.state !== 'done',
    durationMs: Math.round(performance.now() - started),
  }
}

function unknownProjection(dir: string, name: string, status: PublishedStatus | null): EskitError {
  const known = status?.projections.map((p) => p.name) ?? []
  const files = fs
    .readdirSync(dir)
    .map(projectionNameOf)
    .filter((f): f is string => f !== null)
  const candidates = [...new Set([...files, ...known])].sort()
  return new EskitError(
    'NOT_FOUND',
    `unknown projection ${JSON.stringify(name)}: there is no ${name}.db in ${dir}` +
      (status !== null ? ' and the owning process does not run it' : '') +
      (candidates.length > 0 ? `; known projections: ${candidates.join(', ')}` : ''),
    { details: { dir, name, known: candidates } },
  )
}

const FINAL: ReadonlySet<RequestState> = new Set(['done', 'failed', 'rejected', 'closed'])

async function waitForRequest(
  dir: string,
  id: string,
  name: string,
  options: RebuildOptions,
  started: number,
): Promise<RequestResult> {
  const pollMs = options.pollMs ?? 200
  const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : started + options.timeoutMs
  let last: RequestResult = { id, name, state: 'pending', updatedAt: new Date().toISOString() }
  for (;;) {
    const result = readRequestResult(dir, id)
    // Between taking the request file and writing `accepted` the id is briefly in neither folder.
    if (result !== null) last = result
    if (FINAL.has(last.state)) return settle(last, dir)
    if (options.signal?.aborted) return last
    const rebuild = readStatusFile(dir)?.projections.find((p) => p.name === name)?.rebuild
    options.onProgress?.({
      state: last.state,
      position: rebuild?.position ?? 0,
      target: rebuild?.target ?? 0,
      eventsPerSecond: rebuild?.eventsPerSecond ?? 0,
      etaMs: rebuild?.etaMs ?? 0,
    })
    if (!isDirectoryOwned(dir)) {
      // The owner writes `failed` for requests it drops on a clean stop; read once more.
      const final = readRequestResult(dir, id)
      if (final !== null && FINAL.has(final.state)) return settle(final, dir)
      if (final?.state === 'pending') withdraw(dir, id)
      throw new EskitError(
        'CLOSED',
        `the process that owned ${dir} stopped before rebuilding ${name}` +
          (final?.state === 'pending'
            ? '; the request was withdrawn, run the command again to delete the file instead'
            : ''),
        { details: { dir, name, requestId: id } },
      )
    }
    if (performance.now() >= deadline) {
      throw new EskitError(
        'TIMEOUT',
        `gave up waiting for the rebuild of ${name} after ${Math.round((options.timeoutMs ?? 0) / 1000)}s (request ${last.state}); ` +
          'the owning process goes on with it, follow it with eskit status',
        { details: { dir, name, requestId: id, state: last.state } },
      )
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - performance.now())), options.signal)
  }
}

function settle(result: RequestResult, dir: string): RequestResult {
  if (result.state === 'done') return result
  if (result.state === 'closed') {
    // a graceful stop of the owner is not a failed rebuild: nothing of the projection failed
    throw new EskitError(
      'CLOSED',
      `the process that owned ${dir} stopped before the rebuild of ${result.name} completed; ` +
        'the projection was not rebuilt, run the command again',
      { details: { dir, name: result.name, requestId: result.id, state: result.state } },
    )
  }
  throw new EskitError(
    'FAILED',
    result.state === 'rejected'
      ? `the owning process rejected the rebuild of ${result.name}: ${result.message ?? 'unknown projection'}`
      : `the rebuild of ${result.name} failed: ${result.message ?? 'no reason given'}`,
    { details: { dir, name: result.name, requestId: result.id, state: result.state } },
  )
}

/** Removes a request nobody took, so a later start does not rebuild by surprise. */
function withdraw(dir: string, id: string): void {
  fs.rmSync(path.join(directoryLayout(dir).requests, `${id}.json`), { force: true })
}

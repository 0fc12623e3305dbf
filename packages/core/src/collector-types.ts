import type { Clock } from './clock.js'
import type { EventStore } from './event-store.js'
import type { Logger } from './logger.js'
import type { Projection } from './projection.js'
import type { ParkedEvent, ProjectionStore } from './projection-store.js'

/**
 * The lifecycle state of one projection in a collector.
 *
 * @example
 * ```ts
 * if (collector.status().some((s) => s.state === 'failed')) alert()
 * ```
 */
export type ProjectionState = 'starting' | 'rebuilding' | 'catching-up' | 'live' | 'failed' | 'stopped'

/**
 * A projection's status, from `collector.status()`.
 *
 * @example
 * ```ts
 * for (const s of collector.status()) logger.info('projection', { name: s.name, state: s.state, lag: s.lag })
 * ```
 */
export interface ProjectionStatus {
  name: string
  version: string
  state: ProjectionState
  /** Last event position this projection has committed. */
  position: number
  /** Log head when measured. */
  head: number
  /** head - position */
  lag: number
  error?: { message: string; position: number; attempts: number }
  rebuild?: {
    position: number
    target: number
    eventsPerSecond: number
    etaMs: number
    /** Why it rebuilds: `new projection`, `version changed from 1 to 2`, `requested`, … */
    reason?: string
  }
  /**
   * Present while the collector cannot read the event log (behaviour 19: a PostgreSQL log that is
   * down or cut off): `since` (epoch ms of the collector's clock) the first failed read, the last
   * `error` and its `code` (e.g. `UNAVAILABLE`), and the failed `attempts` so far. The projection
   * keeps serving its data meanwhile; reading resumes by itself with backoff, and the field goes
   * away at the first successful read.
   */
  logUnreachable?: { since: number; error: string; code?: string; attempts: number }
  /** The last rebuild this collector completed: when it ended (ISO 8601) and how long it took. */
  lastRebuild?: { at: string; durationMs: number }
}

/**
 * Retry policy for `onError: 'retry'`.
 *
 * @example
 * ```ts
 * createCollector({ events, store, onError: 'retry', retry: { initialDelayMs: 50, maxDelayMs: 5_000 } })
 * ```
 */
export interface RetryOptions {
  /** First delay, doubled per attempt. Default 100 ms. */
  initialDelayMs?: number
  /** Cap of the delay. Default 30 000 ms. */
  maxDelayMs?: number
}

/**
 * Configuration of {@link createCollector}.
 *
 * @example
 * ```ts
 * const config: CollectorConfig = { events, store: sqliteStore({ dir: 'data/projections' }), batchSize: 500 }
 * const collector = createCollector(config)
 * ```
 */
export interface CollectorConfig<Conn = unknown> {
  events: EventStore
  /** The swap-in storage strategy; its connection type is what projections and readers get. */
  store: ProjectionStore<Conn>
  /** Events read per batch. Default 1000. */
  batchSize?: number
  /** Injected; the library never writes to the console itself. */
  logger?: Logger
  /** What a projection whose apply throws does. Default `'retry'` with backoff. */
  onError?: 'retry' | 'skip' | 'stop'
  retry?: RetryOptions
  /** Slow poll for appends made by other processes and for store requests. Default 500 ms. */
  pollIntervalMs?: number
  /**
   * Time and timers for backoff, polling, `waitFor` timeouts and progress throttling. Default
   * {@link systemClock}; a test injects its own to drive them deterministically.
   */
  clock?: Clock
  /**
   * How many builds (first builds, new versions, requested rebuilds) run at once in worker
   * threads, beside the main thread's own work. Default: cores − 1, at least 1. `0`: no worker
   * threads, every build runs on the main thread. A build goes to a worker only when the
   * projection has a `source`, the event log has `workerSource()` and the store's build can be
   * lent (`sqliteStore` with `openSqliteEventStore({ path })`); any other builds on the main thread.
   */
  buildWorkers?: number
}

/**
 * Payload of `on('progress')`.
 *
 * @example
 * ```ts
 * collector.on('progress', (p: ProgressInfo) => logger.info('rebuilding', { name: p.name, position: p.position, target: p.target, etaMs: p.etaMs }))
 * ```
 */
export interface ProgressInfo {
  name: string
  state: ProjectionState
  position: number
  target: number
  eventsPerSecond: number
  etaMs: number
}

/**
 * Payload of `on('error')`.
 *
 * @example
 * ```ts
 * collector.on('error', (e: ErrorInfo) => logger.error('projection failed', { name: e.name, position: e.position }))
 * ```
 */
export interface ErrorInfo {
  name: string
  error: Error
  position: number
  attempts: number
  policy: 'retry' | 'skip' | 'stop'
}

/**
 * Payload of `on('rebuilt')`.
 *
 * @example
 * ```ts
 * collector.on('rebuilt', (r: RebuiltInfo) => logger.info('rebuilt', { name: r.name, version: r.version, swapped: r.swapped, durationMs: r.durationMs }))
 * ```
 */
export interface RebuiltInfo {
  name: string
  version: string
  position: number
  durationMs: number
  /** True when the new data was built beside the old and swapped in. */
  swapped: boolean
}

/**
 * Runs projections: catches them up, follows the log live, checkpoints, rebuilds, isolates failures.
 * `Conn` is the store's connection type (a better-sqlite3 `Database` for the SQLite stores, a
 * `MemoryConnection` for `memoryStore`): what `add` accepts and `reader` returns.
 *
 * @example
 * ```ts
 * const collector = createCollector({ events, store: sqliteStore({ dir: 'data/projections' }) })
 * collector.add(passView)
 * await collector.start()
 * const { position } = await events.append('pass-1', [issued])
 * await collector.waitFor(position)
 * ```
 */
export interface Collector<Conn = unknown> {
  /**
   * Registers a projection, before `start()`; chainable. `INVALID_NAME`, `DUPLICATE_NAME`,
   * `INVALID_ARGUMENT` (version, setup, apply, eventTypes), `INVALID_STATE` after start.
   *
   * @example
   * ```ts
   * collector.add(passView).add(scanLog)
   * ```
   */
  add(projection: Projection<Conn>): Collector<Conn>
  /**
   * Reads the log's head, claims the store (`LOCKED` rejects) and opens every projection; resolves
   * once each serves its existing data. Catch-up and rebuilds go on in the background. A log that
   * cannot be read (`UNAVAILABLE`) rejects before the store is claimed: `start()` may be called
   * again, as after `LOCKED`.
   *
   * @example
   * ```ts
   * await collector.start() // reads are served from here on
   * ```
   */
  start(): Promise<void>
  /**
   * Graceful and idempotent: the batch in flight commits or rolls back, waiters get `CLOSED`, an
   * unfinished build is thrown away, every slot and the store are closed (the event log is not).
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => void collector.stop().then(() => events.close()))
   * ```
   */
  stop(): Promise<void>
  /**
   * Synchronous: every projection's state, position, head, lag, error and rebuild progress.
   *
   * @example
   * ```ts
   * const behind = collector.status().filter((s) => s.lag > 1000).map((s) => s.name)
   * ```
   */
  status(): ProjectionStatus[]
  /**
   * Read-your-writes: resolves when the live data of every named projection (default: all) is at
   * `position` or beyond. `TIMEOUT` after `timeoutMs` (default 30 s), `FAILED` at once for a
   * projection halted by `onError: 'stop'`, `CLOSED` on stop.
   *
   * @example
   * ```ts
   * const { position } = await events.append('pass-1', [issued])
   * await collector.waitFor(position, { projections: ['passes.pass_view'], timeoutMs: 2000 })
   * ```
   */
  waitFor(position: number, options?: { projections?: string[]; timeoutMs?: number }): Promise<void>
  /**
   * Rebuilds one projection from the log, beside the live data where the store can (zero
   * downtime); resolves when the new data is in place. A second call while one runs gets the
   * same promise.
   *
   * @example
   * ```ts
   * await collector.rebuild('passes.pass_view')
   * ```
   */
  rebuild(name: string): Promise<void>
  /**
   * Subscribes to `progress`, `error` or `rebuilt`; returns the unsubscribe. A listener that
   * throws or rejects is logged, never breaks the collector.
   *
   * @example
   * ```ts
   * const off = collector.on('rebuilt', (r) => logger.info('rebuilt', { name: r.name, durationMs: r.durationMs }))
   * off()
   * ```
   */
  on(event: 'progress', listener: (info: ProgressInfo) => void): () => void
  on(event: 'error', listener: (info: ErrorInfo) => void): () => void
  on(event: 'rebuilt', listener: (info: RebuiltInfo) => void): () => void
  on(event: 'progress' | 'error' | 'rebuilt', listener: (info: any) => void): () => void
  /**
   * Events parked for a projection with `onError: 'skip'`, oldest first.
   *
   * @example
   * ```ts
   * for (const p of await collector.parked('passes.pass_view')) logger.warn('parked', { position: p.position, error: p.error })
   * ```
   */
  parked(name: string): Promise<ParkedEvent[]>
  /**
   * A read-only connection to the projection's current live data (see `ProjectionStore.reader`);
   * ask again per query, since a swap replaces it.
   *
   * @example
   * ```ts
   * const rows = collector.reader('passes.pass_view').prepare('select * from passes').all()
   * ```
   */
  reader<Reader = Conn>(name: string): Reader
  /**
   * Tells the collector that a query on `reader(name)` failed with `error` (`createReader` of
   * `@eskit/kysely-views` calls it for every failed query). Corruption marks the projection's data
   * damaged: the store checks it, moves it aside and the projection rebuilds. Never throws.
   *
   * @example
   * ```ts
   * try { db.prepare(sql).all() } catch (error) { collector.readFailed('passes.pass_view', error); throw error }
   * ```
   */
  readFailed(name: string, error: unknown): void
  /** The store the collector runs on. */
  readonly store: ProjectionStore<Conn>
  /** The event log the collector reads. */
  readonly events: EventStore
}

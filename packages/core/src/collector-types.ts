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
  rebuild?: { position: number; target: number; eventsPerSecond: number; etaMs: number }
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
export interface CollectorConfig {
  events: EventStore
  /** The swap-in storage strategy. */
  store: ProjectionStore<any>
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
export interface Collector {
  add(projection: Projection<any>): Collector
  start(): Promise<void>
  stop(): Promise<void>
  status(): ProjectionStatus[]
  waitFor(position: number, options?: { projections?: string[]; timeoutMs?: number }): Promise<void>
  rebuild(name: string): Promise<void>
  on(event: 'progress', listener: (info: ProgressInfo) => void): () => void
  on(event: 'error', listener: (info: ErrorInfo) => void): () => void
  on(event: 'rebuilt', listener: (info: RebuiltInfo) => void): () => void
  on(event: 'progress' | 'error' | 'rebuilt', listener: (info: any) => void): () => void
  /** Events parked for a projection with `onError: 'skip'`. */
  parked(name: string): Promise<ParkedEvent[]>
  /** A read-only connection to the projection's current live data (see `ProjectionStore.reader`). */
  reader<Conn = unknown>(name: string): Conn
  /** The store the collector runs on. */
  readonly store: ProjectionStore<any>
  /** The event log the collector reads. */
  readonly events: EventStore
}

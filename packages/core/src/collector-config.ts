import { type Clock, systemClock } from './clock.js'
import type { CollectorConfig } from './collector-types.js'
import { EskitError } from './eskit-error.js'
import { type Logger, silentLogger } from './logger.js'
import type { Projection } from './projection.js'
import type { ProjectionStore } from './projection-store.js'
import { assertProjectionName } from './validation.js'

const DEFAULT_BATCH_SIZE = 1000
const MAX_BATCH_SIZE = 100_000
const DEFAULT_POLL_MS = 500
const DEFAULT_RETRY_INITIAL_MS = 100
const DEFAULT_RETRY_MAX_MS = 30_000
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000

/** What a projection whose apply throws does. */
export type FailurePolicyName = 'retry' | 'skip' | 'stop'

/** A validated {@link CollectorConfig} with every default filled in. */
export interface CollectorSettings {
  readonly events: CollectorConfig['events']
  readonly store: ProjectionStore<unknown>
  readonly logger: Logger
  readonly clock: Clock
  readonly batchSize: number
  readonly policy: FailurePolicyName
  readonly pollIntervalMs: number
  readonly retryInitialMs: number
  readonly retryMaxMs: number
  /** Worker threads for builds; 0 = every build on the main thread. */
  readonly buildWorkers: number
}

const MAX_BUILD_WORKERS = 64

/** Cores − 1, at least 1: the main thread keeps one core for reads and live projections. */
export function defaultBuildWorkers(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency
  return Math.max(1, (typeof cores === 'number' && Number.isInteger(cores) ? cores : 1) - 1)
}

/** Checks a collector's configuration: a clear INVALID_ARGUMENT before anything is opened. */
export function validateConfig(config: CollectorConfig): CollectorSettings {
  const fail = (message: string): never => {
    throw new EskitError('INVALID_ARGUMENT', `createCollector: ${message}`)
  }
  if (typeof config !== 'object' || config === null) fail('config must be an object')
  const { events, store } = config
  if (
    typeof events !== 'object' ||
    events === null ||
    typeof events.readAll !== 'function' ||
    typeof events.head !== 'function' ||
    typeof events.onAppend !== 'function' ||
    typeof events.id !== 'string'
  ) {
    fail('events must be an EventStore')
  }
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.open !== 'function' ||
    typeof store.openSlot !== 'function' ||
    typeof store.reader !== 'function' ||
    typeof store.close !== 'function' ||
    typeof store.capabilities !== 'object'
  ) {
    fail('store must be a ProjectionStore')
  }
  const batchSize = config.batchSize ?? DEFAULT_BATCH_SIZE
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    fail(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}`)
  }
  const policy = config.onError ?? 'retry'
  if (policy !== 'retry' && policy !== 'skip' && policy !== 'stop')
    fail(`onError must be 'retry', 'skip' or 'stop'`)
  const pollIntervalMs = config.pollIntervalMs ?? DEFAULT_POLL_MS
  if (typeof pollIntervalMs !== 'number' || !(pollIntervalMs >= 1))
    fail('pollIntervalMs must be a number >= 1')
  const retryInitialMs = config.retry?.initialDelayMs ?? DEFAULT_RETRY_INITIAL_MS
  const retryMaxMs = config.retry?.maxDelayMs ?? DEFAULT_RETRY_MAX_MS
  if (typeof retryInitialMs !== 'number' || !(retryInitialMs >= 0))
    fail('retry.initialDelayMs must be a number >= 0')
  if (typeof retryMaxMs !== 'number' || !(retryMaxMs >= retryInitialMs)) {
    fail('retry.maxDelayMs must be a number >= retry.initialDelayMs')
  }
  const buildWorkers = config.buildWorkers ?? defaultBuildWorkers()
  if (!Number.isInteger(buildWorkers) || buildWorkers < 0 || buildWorkers > MAX_BUILD_WORKERS) {
    fail(`buildWorkers must be an integer from 0 to ${MAX_BUILD_WORKERS}`)
  }
  const logger = config.logger ?? silentLogger
  if (
    ['debug', 'info', 'warn', 'error'].some(
      (level) => typeof (logger as unknown as Record<string, unknown>)[level] !== 'function',
    )
  ) {
    fail('logger must have debug, info, warn and error methods')
  }
  const clock = config.clock ?? systemClock
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    fail('clock must have now, setTimeout and clearTimeout methods')
  }
  return {
    events,
    store,
    logger,
    clock,
    batchSize,
    policy,
    pollIntervalMs,
    retryInitialMs,
    retryMaxMs,
    buildWorkers,
  }
}

/** Checks a projection handed to `add()`. */
export function validateProjection(projection: Projection<unknown>): Projection<unknown> {
  if (typeof projection !== 'object' || projection === null) {
    throw new EskitError('INVALID_ARGUMENT', 'add() needs a projection object')
  }
  assertProjectionName(projection.name)
  const fail = (message: string): never => {
    throw new EskitError('INVALID_ARGUMENT', `projection ${projection.name}: ${message}`, {
      details: { name: projection.name },
    })
  }
  if (typeof projection.version !== 'string' || projection.version.length === 0)
    fail('version must be a non-empty string')
  if (typeof projection.setup !== 'function') fail('setup must be a function')
  if (typeof projection.apply !== 'function') fail('apply must be a function')
  const types = projection.eventTypes
  if (types !== undefined) {
    if (!Array.isArray(types) || types.some((type) => typeof type !== 'string' || type.length === 0)) {
      fail('eventTypes must be an array of non-empty strings')
    }
  }
  return projection
}

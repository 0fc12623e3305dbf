import { MAX_TIMER_MS } from './clock.js'
import type { FailurePolicyName } from './collector-config.js'
import type { CollectorContext } from './collector-context.js'
import type { CollectorListeners } from './collector-listeners.js'
import { asError, causeMessage } from './error-text.js'
import { EskitError, isEskitError } from './eskit-error.js'
import type { StoredEvent } from './event.js'
import type { ParkedEvent } from './projection-store.js'
import { endBackoff, fail, type ProjectionUnit, recover, release, unitPosition } from './projection-unit.js'
import type { StatusReporter } from './status-reporter.js'
import type { WaitRegistry } from './wait-registry.js'

/** The delay before attempt `attempts + 1`: doubled per attempt from `initialMs`, capped at `maxMs`. */
export function backoffDelay(attempts: number, initialMs: number, maxMs: number): number {
  return Math.min(initialMs * 2 ** Math.max(0, attempts - 1), maxMs, MAX_TIMER_MS)
}

/** The event as parked with `onError: 'skip'`. */
export function parkedEventOf(event: StoredEvent, error: unknown, now: number): ParkedEvent {
  return {
    position: event.position,
    streamId: event.streamId,
    type: event.type,
    error: causeMessage(error),
    attempts: 1,
    parkedAt: new Date(now).toISOString(),
    event,
  }
}

/**
 * What a failure does. A projection's own failure (its `apply` or `setup` threw) follows the
 * `onError` policy: retry with backoff, park the event and move on, or halt. Store trouble (disk
 * full, read-only, busy, I/O, a conflict that is not one) is never parked: always retried.
 */
export interface FailurePolicy {
  /** Records a failure at `position` and applies `used`: halt, or retry after a backoff. */
  record(unit: ProjectionUnit, error: unknown, position: number, used: FailurePolicyName, step: string): void
  /** Store trouble: retried at the unit's position, whatever the policy. */
  storeFailure(unit: ProjectionUnit, error: unknown, step: string): void
  /** Opening or beginning a rebuild failed: a setup that threw halts under 'stop', else retried. */
  setupFailure(unit: ProjectionUnit, error: unknown, step: string): void
  /**
   * `apply` threw on `event` (already isolated). 'skip' parks it through `commitParked` (false:
   * that commit failed and was handled); the other policies record the failure.
   */
  applyFailure(
    unit: ProjectionUnit,
    event: StoredEvent,
    error: EskitError,
    commitParked: (parked: ParkedEvent) => Promise<boolean>,
  ): Promise<void>
  /** Committed again: clears the failure. */
  recovered(unit: ProjectionUnit): void
  /** A halted or backing-off unit is tried now (a rebuild was asked for). */
  resume(unit: ProjectionUnit): void
  /** Cancels a unit's retry timer (the collector stops). */
  cancel(unit: ProjectionUnit): void
  /** The error waiters of a halted unit get. */
  haltedError(unit: ProjectionUnit): EskitError
}

export function createFailurePolicy(
  context: CollectorContext,
  parts: {
    listeners: CollectorListeners
    reporter: StatusReporter
    waits: WaitRegistry
    wake: () => void
  },
): FailurePolicy {
  const { logger, clock, policy, retryInitialMs, retryMaxMs } = context.settings
  const { listeners, reporter, waits, wake } = parts

  const cancel = (unit: ProjectionUnit): void => {
    if (unit.retryTimer !== undefined) clock.clearTimeout(unit.retryTimer)
    unit.retryTimer = undefined
  }

  const haltedError = (unit: ProjectionUnit): EskitError =>
    new EskitError(
      'FAILED',
      `projection ${unit.name} is failed at position ${unit.failure?.position ?? unit.position} and stopped (onError: 'stop'): ${unit.failure?.message ?? 'unknown error'}`,
      {
        details: {
          name: unit.name,
          ...(unit.failure
            ? {
                message: unit.failure.message,
                position: unit.failure.position,
                attempts: unit.failure.attempts,
              }
            : {}),
        },
      },
    )

  const record = (
    unit: ProjectionUnit,
    error: unknown,
    position: number,
    used: FailurePolicyName,
    step: string,
  ): void => {
    const message = causeMessage(error)
    const now = clock.now()
    let delay = 0
    const { attempts } = fail(unit, message, position, (attempts) => {
      if (used === 'stop') return { kind: 'halted' }
      delay = backoffDelay(attempts, retryInitialMs, retryMaxMs)
      return { kind: 'backoff', until: now + delay }
    })
    const code = isEskitError(error) ? error.code : undefined
    logger.error('projection failed', {
      name: unit.name,
      step,
      position,
      attempts,
      policy: used,
      code,
      error: message,
    })
    listeners.emit('error', { name: unit.name, error: asError(error), position, attempts, policy: used })
    if (used === 'stop') {
      waits.failFor(unit, haltedError(unit))
      const deferred = unit.rebuildDeferred
      unit.rebuildDeferred = null
      deferred?.reject(haltedError(unit))
    } else {
      cancel(unit)
      unit.retryTimer = clock.setTimeout(() => {
        unit.retryTimer = undefined
        endBackoff(unit)
        wake()
      }, delay)
    }
    // published at once: a store following a rebuild request tells this failure from the one before
    reporter.refresh(unit, true)
  }

  const storeFailure = (unit: ProjectionUnit, error: unknown, step: string): void => {
    record(unit, error, unitPosition(unit), 'retry', step)
  }

  const recovered = (unit: ProjectionUnit): void => {
    if (!unit.failure) return
    logger.info('projection recovered', { name: unit.name, position: unitPosition(unit) })
    recover(unit)
  }

  return {
    record,
    storeFailure,
    recovered,
    haltedError,
    cancel,
    setupFailure(unit, error, step) {
      if (isEskitError(error, 'PROJECTION_FAILED') && policy === 'stop') record(unit, error, 0, 'stop', step)
      else storeFailure(unit, error, step)
    },
    async applyFailure(unit, event, error, commitParked) {
      if (policy !== 'skip') {
        record(unit, error, event.position, policy, 'apply')
        return
      }
      const parked = parkedEventOf(event, error, clock.now())
      if (!(await commitParked(parked))) return
      logger.error('projection failed; event parked', {
        name: unit.name,
        position: event.position,
        type: event.type,
        streamId: event.streamId,
        policy: 'skip',
        error: parked.error,
      })
      listeners.emit('error', {
        name: unit.name,
        error: asError(error),
        position: event.position,
        attempts: 1,
        policy: 'skip',
      })
      recovered(unit)
      reporter.refresh(unit)
    },
    resume(unit) {
      release(unit)
      cancel(unit)
    },
  }
}

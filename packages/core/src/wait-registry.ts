import type { Clock, TimerHandle } from './clock.js'
import { EskitError } from './eskit-error.js'
import type { ProjectionUnit } from './projection-unit.js'

interface Waiter {
  readonly units: readonly ProjectionUnit[]
  readonly position: number
  resolve(): void
  reject(error: Error): void
  timer: TimerHandle | undefined
}

/** The callers of `waitFor`: resolved when every unit they wait for reached their position. */
export interface WaitRegistry {
  /** Waits until every unit's live position is at least `position`, at most `timeoutMs`. */
  wait(units: readonly ProjectionUnit[], position: number, timeoutMs: number): Promise<void>
  /** Resolves the waiters whose units all reached their position (after a live position moved). */
  check(): void
  /** Rejects the waiters that wait for `unit` (it halted). */
  failFor(unit: ProjectionUnit, error: Error): void
  /** Rejects every waiter (the collector stops). */
  rejectAll(error: Error): void
}

export function createWaitRegistry(clock: Clock): WaitRegistry {
  const waiters = new Set<Waiter>()
  const settle = (waiter: Waiter): void => {
    waiters.delete(waiter)
    if (waiter.timer !== undefined) clock.clearTimeout(waiter.timer)
  }
  return {
    wait(units, position, timeoutMs) {
      if (units.every((unit) => unit.position >= position)) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { units, position, resolve, reject, timer: undefined }
        waiter.timer = clock.setTimeout(() => {
          waiters.delete(waiter)
          reject(timeoutError(units, position, timeoutMs))
        }, timeoutMs)
        waiters.add(waiter)
      })
    },
    check() {
      for (const waiter of waiters) {
        if (waiter.units.every((unit) => unit.position >= waiter.position)) {
          settle(waiter)
          waiter.resolve()
        }
      }
    },
    failFor(unit, error) {
      for (const waiter of waiters) {
        if (!waiter.units.includes(unit)) continue
        settle(waiter)
        waiter.reject(error)
      }
    },
    rejectAll(error) {
      for (const waiter of [...waiters]) {
        settle(waiter)
        waiter.reject(error)
      }
    },
  }
}

function timeoutError(units: readonly ProjectionUnit[], position: number, timeoutMs: number): EskitError {
  const behind = units.filter((unit) => unit.position < position)
  const laggards = behind.map(
    (unit) =>
      `${unit.name} at ${unit.position} (${unit.state}${unit.failure ? `: ${unit.failure.message}` : ''})`,
  )
  return new EskitError(
    'TIMEOUT',
    `waitFor(${position}) timed out after ${timeoutMs} ms: ${laggards.join(', ')}`,
    {
      details: {
        position,
        timeoutMs,
        laggards: behind.map((unit) => ({ name: unit.name, position: unit.position, state: unit.state })),
      },
    },
  )
}

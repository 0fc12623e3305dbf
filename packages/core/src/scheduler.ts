import type { TimerHandle } from './clock.js'
import { type CollectorContext, isStopping } from './collector-context.js'
import { backoffDelay } from './failure-policy.js'

/** When the collector works: at once on a wake-up (an append, a retry due), else idle; plus a slow poll. */
export interface Scheduler {
  /** Something changed: the loop runs another pass as soon as it can (no timer in between). */
  wake(): void
  /** Runs `pass` until the collector stops, idling when a pass did nothing. */
  run(pass: () => Promise<boolean>): Promise<void>
  /** Calls `tick` every poll interval until `stopPolling()`. */
  startPolling(tick: () => void): void
  stopPolling(): void
}

/** What the loop tells about reading the event log: a pass read it, or failed to. */
export interface LogReadHooks {
  succeeded(): void
  failed(error: unknown, retryInMs: number): void
}

export function createScheduler(context: CollectorContext, log: LogReadHooks): Scheduler {
  const { clock, pollIntervalMs, retryInitialMs, retryMaxMs } = context.settings
  // appends resolve the idle loop's promise directly
  let wakePending = false
  let wakeResolve: (() => void) | undefined
  let pollTimer: TimerHandle | undefined
  let polling = false

  const wake = (): void => {
    wakePending = true
    const resolve = wakeResolve
    wakeResolve = undefined
    resolve?.()
  }
  const idle = async (): Promise<void> => {
    if (wakePending || context.phase !== 'started') return
    await new Promise<void>((resolve) => {
      wakeResolve = resolve
    })
  }
  /** Idles for at most `delay` ms (a wake-up ends it early). */
  const sleep = async (delay: number): Promise<void> => {
    const timer = clock.setTimeout(wake, delay)
    wakePending = false
    await idle()
    clock.clearTimeout(timer)
  }

  return {
    wake,
    async run(pass) {
      let failures = 0
      while (!isStopping(context)) {
        wakePending = false
        let worked = false
        try {
          worked = await pass()
          failures = 0
          log.succeeded()
        } catch (error) {
          // the event log itself failed (head/readAll): back off, keep the collector alive
          failures += 1
          const delay = backoffDelay(failures, retryInitialMs, retryMaxMs)
          log.failed(error, delay)
          if (isStopping(context)) break
          await sleep(delay)
          continue
        }
        if (!worked) await idle()
      }
    },
    startPolling(tick) {
      polling = true
      const schedule = (): void => {
        pollTimer = clock.setTimeout(() => {
          if (!polling) return
          schedule()
          tick()
        }, pollIntervalMs)
      }
      schedule()
    },
    stopPolling() {
      polling = false
      if (pollTimer !== undefined) clock.clearTimeout(pollTimer)
      pollTimer = undefined
    },
  }
}

/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown

/**
 * Time as the collector sees it: the current time and one-shot timers. Injected so that backoff,
 * polling, `waitFor` timeouts and progress throttling can be driven by a test, deterministically.
 *
 * @example
 * ```ts
 * const collector = createCollector({ events, store, clock: systemClock })
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Calls `callback` once after `ms` milliseconds. */
  setTimeout(callback: () => void, ms: number): TimerHandle
  /** Cancels a timer; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: TimerHandle): void
}

/** setTimeout fires at once (with a warning) for longer delays: about 24.8 days is "no timeout". */
export const MAX_TIMER_MS = 2_147_483_647

/**
 * The real clock: `Date.now()` and the runtime's timers (delays beyond a timer's range wait the
 * longest a timer can, instead of firing at once).
 *
 * @example
 * ```ts
 * const started = systemClock.now()
 * const timer = systemClock.setTimeout(() => logger.info('a second later', { started }), 1000)
 * systemClock.clearTimeout(timer)
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/**
 * A clock (the `Clock` shape of `@eskit/core`: `now`, `setTimeout`, `clearTimeout`) that moves
 * only when the test says so: backoff, polls and timeouts become deterministic.
 *
 * @example
 * ```ts
 * const clock = createManualClock()
 * const collector = createCollector({ events, store, clock })
 * clock.advance(100) // fires every timer due within 100 ms, in order
 * ```
 */
export interface ManualClock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  /** Moves time forward, firing every timer that falls due, in order. */
  advance(ms: number): void
  /** Milliseconds until the next timer is due, or undefined when none is set. */
  nextDue(): number | undefined
  /** Delays of the timers set so far (fired, cleared or pending), in the order they were set. */
  readonly delays: number[]
}

/** Creates a {@link ManualClock} at `start` (ms since the epoch). */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start
  let sequence = 0
  const timers = new Map<number, { at: number; callback: () => void }>()
  const delays: number[] = []
  const dueFirst = (): [number, { at: number; callback: () => void }] | undefined => {
    let first: [number, { at: number; callback: () => void }] | undefined
    for (const entry of timers) if (!first || entry[1].at < first[1].at) first = entry
    return first
  }
  return {
    delays,
    now: () => now,
    setTimeout(callback, ms) {
      sequence += 1
      delays.push(ms)
      timers.set(sequence, { at: now + Math.max(0, ms), callback })
      return sequence
    },
    clearTimeout(handle) {
      timers.delete(handle as number)
    },
    advance(ms) {
      const until = now + ms
      for (let next = dueFirst(); next && next[1].at <= until; next = dueFirst()) {
        timers.delete(next[0])
        now = next[1].at
        next[1].callback()
      }
      now = until
    },
    nextDue() {
      const next = dueFirst()
      return next ? next[1].at - now : undefined
    },
  }
}

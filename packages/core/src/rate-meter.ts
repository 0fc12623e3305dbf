/** Positions per second over a moving window, for rebuild progress and ETA. */
export interface RateMeter {
  /** Records that `position` was reached now. */
  add(position: number): void
  /** Starts over from `position`. */
  reset(position: number): void
  /** Positions per second over the window; 0 until two samples are apart in time. */
  perSecond(): number
}

const WINDOW_MS = 5000
const RESOLUTION_MS = 100

/** Creates a {@link RateMeter} over a 5-second moving window. */
export function createRateMeter(now: () => number = () => performance.now()): RateMeter {
  let samples: Array<{ at: number; position: number }> = []
  return {
    add(position) {
      const at = now()
      // one sample per ~100 ms: a busy live projection does not grow the window to thousands
      const previous = samples[samples.length - 2]
      if (previous && at - previous.at < RESOLUTION_MS) samples[samples.length - 1] = { at, position }
      else samples.push({ at, position })
      // keep one sample older than the window so the rate spans the whole window
      while (samples.length > 2 && (samples[1] as { at: number }).at <= at - WINDOW_MS) samples.shift()
    },
    reset(position) {
      samples = [{ at: now(), position }]
    },
    perSecond() {
      const first = samples[0]
      const last = samples[samples.length - 1]
      if (!first || !last || last.at <= first.at) return 0
      return ((last.position - first.position) * 1000) / (last.at - first.at)
    },
  }
}

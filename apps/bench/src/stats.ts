/** Summary of repeated samples. */
export interface Summary {
  min: number
  median: number
  max: number
  samples: number[]
}

/** The `p`-th percentile (0–100) of samples, nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}

/** Median (mean of the two middle samples when even). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Min, median and max of samples. */
export function summarize(samples: readonly number[]): Summary {
  return {
    min: Math.min(...samples),
    median: median(samples),
    max: Math.max(...samples),
    samples: [...samples],
  }
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function now(): number {
  return performance.now()
}

/**
 * Runs `run` `repeats` times and summarises the milliseconds each took. `run` returns the time it
 * measured itself (so set-up and the correctness check stay out of the figure).
 */
export async function repeat(repeats: number, run: (attempt: number) => Promise<number>): Promise<Summary> {
  const samples: number[] = []
  for (let attempt = 0; attempt < repeats; attempt++) {
    samples.push(await run(attempt))
  }
  return summarize(samples)
}

import type { ProjectionStatus } from '@eskit/core'

/** Upper bounds of the rebuild-duration buckets, in seconds. */
export const REBUILD_BUCKETS_SECONDS: readonly number[] = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]

/** One projection's rebuild durations: cumulative bucket counts, sum and count (Prometheus histogram). */
export interface DurationSeries {
  readonly buckets: readonly number[]
  readonly sumSeconds: number
  readonly count: number
}

/**
 * Observes each completed rebuild once, from the `lastRebuild` of successive status samples
 * (a new `at` is a new rebuild).
 */
export interface RebuildHistogram {
  observe(status: ProjectionStatus): void
  series(): ReadonlyMap<string, DurationSeries>
}

interface Series {
  buckets: number[]
  sumSeconds: number
  count: number
  lastAt: string
}

export function createRebuildHistogram(): RebuildHistogram {
  const byName = new Map<string, Series>()
  return {
    observe(status) {
      const last = status.lastRebuild
      if (!last) return
      let series = byName.get(status.name)
      if (series?.lastAt === last.at) return
      series ??= { buckets: REBUILD_BUCKETS_SECONDS.map(() => 0), sumSeconds: 0, count: 0, lastAt: last.at }
      const seconds = last.durationMs / 1000
      REBUILD_BUCKETS_SECONDS.forEach((bound, index) => {
        if (seconds <= bound) series.buckets[index] = (series.buckets[index] ?? 0) + 1
      })
      series.sumSeconds += seconds
      series.count += 1
      series.lastAt = last.at
      byName.set(status.name, series)
    },
    series: () => byName,
  }
}

/** Events per second of each projection over one step of the history. */
export interface ThroughputPoint {
  /** End of the step, ms since the epoch. */
  readonly t: number
  readonly rates: Readonly<Record<string, number>>
}

/**
 * Events/s per projection over the last minutes: one point per `stepMs`, computed from the
 * events counters, kept for `windowMs`.
 */
export interface ThroughputHistory {
  readonly stepMs: number
  readonly windowMs: number
  /** Offers the counters at time `t`; returns the new point when a step is complete, else null. */
  record(t: number, totals: ReadonlyMap<string, number>): ThroughputPoint | null
  points(): readonly ThroughputPoint[]
  /** Each projection's rate in the last complete step (0 before the first). */
  latest(name: string): number
}

export function createThroughputHistory(options: { stepMs: number; windowMs: number }): ThroughputHistory {
  const { stepMs, windowMs } = options
  const points: ThroughputPoint[] = []
  let base: { t: number; totals: Map<string, number> } | null = null
  return {
    stepMs,
    windowMs,
    record(t, totals) {
      if (base === null) {
        base = { t, totals: new Map(totals) }
        return null
      }
      const elapsed = t - base.t
      if (elapsed < stepMs) return null
      const rates: Record<string, number> = {}
      for (const [name, total] of totals) {
        const before = base.totals.get(name) ?? total
        rates[name] = Math.max(0, Math.round(((total - before) * 1000) / elapsed))
      }
      const point: ThroughputPoint = { t, rates }
      points.push(point)
      while (points.length > 0 && (points[0] as ThroughputPoint).t <= t - windowMs) points.shift()
      base = { t, totals: new Map(totals) }
      return point
    },
    points: () => points,
    latest: (name) => points.at(-1)?.rates[name] ?? 0,
  }
}

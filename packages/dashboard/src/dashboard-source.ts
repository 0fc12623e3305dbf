import type { Collector, ParkedEvent, ProjectionStatus } from '@eskit/core'

/**
 * Where a dashboard reads what it shows. `collectorSource(collector)` reads a collector in the
 * same process; `eskit dashboard` reads what a directory's owner publishes. A source is only
 * read: the rebuild button needs a collector (see `createDashboard`).
 *
 * @example
 * ```ts
 * const source: DashboardSource = {
 *   status: () => collector.status(),
 *   parked: (name) => collector.parked(name),
 * }
 * const dashboard = createDashboard({ source, title: 'passes service' })
 * ```
 */
export interface DashboardSource {
  /** Every projection's status now. */
  status(): readonly ProjectionStatus[] | Promise<readonly ProjectionStatus[]>
  /** The events parked for one projection (`onError: 'skip'`), oldest first. */
  parked(name: string): Promise<readonly ParkedEvent[]>
  /**
   * Calls `listener` when something changed that the page should show at once (progress, an
   * error, a completed rebuild); `true` means a rebuild completed or a projection failed.
   * Returns the unsubscribe function. Without it the dashboard samples on its interval only.
   */
  subscribe?(listener: (urgent: boolean) => void): () => void
}

/**
 * A {@link DashboardSource} on a collector of this process: its `status()`, its parked events
 * and its `progress`, `error` and `rebuilt` events.
 *
 * @example
 * ```ts
 * const metrics = createMetricsHandler({ source: collectorSource(collector) })
 * ```
 */
export function collectorSource(collector: Collector): DashboardSource {
  return {
    status: () => collector.status(),
    parked: (name) => collector.parked(name),
    subscribe(listener) {
      const off = [
        collector.on('progress', () => listener(false)),
        collector.on('error', () => listener(true)),
        collector.on('rebuilt', () => listener(true)),
      ]
      return () => {
        for (const unsubscribe of off) unsubscribe()
      }
    },
  }
}

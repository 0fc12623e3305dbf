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
   * Calls `listener` when something changed that the page should show at once: progress, an
   * error, a completed rebuild (with the position it completed at, so a rebuild that began and
   * ended between two samples is still counted). Returns the unsubscribe function. Without it the
   * dashboard samples on its interval only.
   */
  subscribe?(listener: (change: SourceChange) => void): () => void
}

/**
 * What changed, for {@link DashboardSource.subscribe}.
 *
 * @example
 * ```ts
 * const change: SourceChange = { type: 'rebuilt', name: 'passes', position: 1200 }
 * ```
 */
export interface SourceChange {
  readonly type: 'progress' | 'error' | 'rebuilt'
  readonly name: string
  readonly position: number
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
        collector.on('progress', (info) =>
          listener({ type: 'progress', name: info.name, position: info.position }),
        ),
        collector.on('error', (info) =>
          listener({ type: 'error', name: info.name, position: info.position }),
        ),
        collector.on('rebuilt', (info) =>
          listener({ type: 'rebuilt', name: info.name, position: info.position }),
        ),
      ]
      return () => {
        for (const unsubscribe of off) unsubscribe()
      }
    },
  }
}

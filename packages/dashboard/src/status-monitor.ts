import type { Logger, ProjectionStatus } from '@eskit/core'
import type { DashboardSource, SourceChange } from './dashboard-source.js'
import { createEventsCounter, type EventsCounter } from './events-counter.js'
import { createRebuildHistogram, type RebuildHistogram } from './rebuild-histogram.js'
import {
  createThroughputHistory,
  type ThroughputHistory,
  type ThroughputPoint,
} from './throughput-history.js'

/**
 * One projection as the dashboard shows it: its status plus what the dashboard measured.
 *
 * @example
 * ```ts
 * const slow = (await (await fetch('/eskit/api/state')).json()).projections.filter((p: ProjectionView) => p.lag > 1000)
 * ```
 */
export interface ProjectionView extends ProjectionStatus {
  /** Events processed since the dashboard started (`eskit_projection_events_total`). */
  eventsTotal: number
  /** Events per second over the last history step. */
  eventsPerSecond: number
  /** How many events are parked for it (`onError: 'skip'`); refreshed every few seconds. */
  parkedCount: number
}

/** What one sample of the source gave. */
export interface MonitorSample {
  /** ms since the epoch. */
  readonly sampledAt: number
  readonly projections: readonly ProjectionView[]
  /** The throughput point this sample completed, if it completed one. */
  readonly point: ThroughputPoint | null
}

/** Samples a source on an interval (and at once on its urgent changes) and keeps the measurements. */
export interface StatusMonitor {
  /** A fresh sample now; concurrent calls share one read of the source. */
  sample(): Promise<MonitorSample>
  readonly events: EventsCounter
  readonly rebuilds: RebuildHistogram
  readonly history: ThroughputHistory
  readonly historyStepMs: number
  /** Called after every sample; returns the unsubscribe function. */
  subscribe(listener: (sample: MonitorSample) => void): () => void
  close(): void
}

export interface StatusMonitorOptions {
  source: DashboardSource
  logger: Logger
  now?: () => number
  sampleIntervalMs?: number
  historyStepMs?: number
  historyWindowMs?: number
  parkedRefreshMs?: number
}

/** Progress events arrive every 200 ms per projection: sampling faster would only cost CPU. */
const MIN_SAMPLE_GAP_MS = 200

export function createStatusMonitor(options: StatusMonitorOptions): StatusMonitor {
  const { source, logger } = options
  const now = options.now ?? Date.now
  const sampleIntervalMs = options.sampleIntervalMs ?? 1000
  const historyStepMs = options.historyStepMs ?? 2000
  const parkedRefreshMs = options.parkedRefreshMs ?? 5000
  const events = createEventsCounter()
  const rebuilds = createRebuildHistogram()
  const history = createThroughputHistory({
    stepMs: historyStepMs,
    windowMs: options.historyWindowMs ?? 10 * 60_000,
  })
  const listeners = new Set<(sample: MonitorSample) => void>()
  const parkedCounts = new Map<string, number>()
  let names: string[] = []
  let inFlight: Promise<MonitorSample> | null = null
  let lastSampleAt = 0
  let pendingTimer: ReturnType<typeof setTimeout> | undefined
  let parkedReading = false
  let parkedReadAt = 0
  let closed = false

  const read = async (): Promise<MonitorSample> => {
    const result = source.status()
    // a collector answers at once: measured in the same turn, no event can slip in between
    return measure(isPromise(result) ? await result : result)
  }

  const measure = (statuses: readonly ProjectionStatus[]): MonitorSample => {
    const sampledAt = now()
    const totals = new Map<string, number>()
    for (const status of statuses) {
      events.observe(status)
      rebuilds.observe(status)
      totals.set(status.name, events.total(status.name))
    }
    const point = history.record(sampledAt, totals)
    names = statuses.map((status) => status.name)
    const projections = statuses.map(
      (status): ProjectionView => ({
        ...status,
        eventsTotal: events.total(status.name),
        eventsPerSecond: history.latest(status.name),
        parkedCount: parkedCounts.get(status.name) ?? 0,
      }),
    )
    return { sampledAt, projections, point }
  }

  const sample = (): Promise<MonitorSample> => {
    if (inFlight) return inFlight
    const current = read().finally(() => {
      inFlight = null
      lastSampleAt = now()
    })
    inFlight = current
    current.then(
      (result) => {
        for (const listener of [...listeners]) {
          try {
            listener(result)
          } catch (error) {
            logger.warn('dashboard listener threw', { error: messageOf(error) })
          }
        }
        if (now() - parkedReadAt >= parkedRefreshMs) void refreshParked()
      },
      (error: unknown) =>
        logger.warn('dashboard could not read the projections status', { error: messageOf(error) }),
    )
    return current
  }

  const refreshParked = async (): Promise<void> => {
    if (parkedReading || closed) return
    parkedReading = true
    parkedReadAt = now()
    try {
      for (const name of names) {
        try {
          parkedCounts.set(name, (await source.parked(name)).length)
        } catch (error) {
          logger.debug('dashboard could not read parked events', { name, error: messageOf(error) })
        }
      }
    } finally {
      parkedReading = false
    }
  }

  const onChange = (change: SourceChange): void => {
    if (closed) return
    if (change.type === 'rebuilt') {
      events.rebuilt(change.name, change.position)
      // the collector records lastRebuild before it tells: observe this rebuild's duration now
      const result = source.status()
      if (!isPromise(result)) for (const status of result) rebuilds.observe(status)
    }
    sampleSoon(change.type !== 'progress')
  }

  const sampleSoon = (urgent: boolean): void => {
    if (closed || pendingTimer) return
    if (urgent) parkedReadAt = 0
    const wait = urgent ? 0 : Math.max(0, MIN_SAMPLE_GAP_MS - (now() - lastSampleAt))
    pendingTimer = setTimeout(() => {
      pendingTimer = undefined
      if (!closed) sample().catch(() => {})
    }, wait)
    pendingTimer.unref?.()
  }

  const unsubscribe = source.subscribe?.(onChange)
  // a first sample at once: counting starts now, and a rebuild that completes next is known to have begun
  sample().catch(() => {})
  const interval = setInterval(() => {
    if (!closed) sample().catch(() => {})
  }, sampleIntervalMs)
  // the dashboard must never keep a process alive on its own
  interval.unref?.()

  return {
    sample,
    events,
    rebuilds,
    history,
    historyStepMs,
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    close() {
      closed = true
      clearInterval(interval)
      if (pendingTimer) clearTimeout(pendingTimer)
      unsubscribe?.()
      listeners.clear()
    },
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

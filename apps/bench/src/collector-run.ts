import {
  type Collector,
  createCollector,
  type EventStore,
  type Projection,
  type ProjectionStore,
  silentLogger,
} from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'

/** A collector over an eskit log file, with what is needed to time it and to close it. */
export interface CollectorRun {
  events: EventStore
  collector: Collector
  /**
   * Resolves when every named projection (default: all) has committed `position` and is `live`
   * (a rebuild has finished, swap included); rejects on a projection error.
   */
  caughtUp(position: number, projections?: string[]): Promise<void>
  close(): Promise<void>
}

/** How long a case waits for a rebuild before it calls the run failed. */
const CATCH_UP_TIMEOUT_MS = 600_000

/**
 * Opens the log, creates a collector on `store` with the projections added (not started).
 * Batches of 1,000 events, as the raw baseline's transactions; `onError: 'stop'` so a failing
 * projection fails the case instead of retrying forever.
 */
export function openCollector(
  log: string | EventStore,
  store: ProjectionStore<any>,
  projections: readonly Projection<any>[],
  options: { buildWorkers?: number } = {},
): CollectorRun {
  // A log file is opened (and closed) here; an open event store (PostgreSQL) stays the caller's.
  const events = typeof log === 'string' ? openSqliteEventStore({ path: log }) : log
  const collector = createCollector({
    events,
    store,
    batchSize: 1000,
    logger: silentLogger,
    onError: 'stop',
    ...(options.buildWorkers === undefined ? {} : { buildWorkers: options.buildWorkers }),
  })
  for (const projection of projections) collector.add(projection)
  let failure: ((error: Error) => void) | undefined
  const failed = new Promise<never>((_, reject) => {
    failure = reject
  })
  // Keeps an unobserved rejection from crashing the process when no case is waiting.
  failed.catch(() => {})
  collector.on('error', (info) =>
    failure?.(new Error(`projection ${info.name} failed: ${info.error.message}`)),
  )
  return {
    events,
    collector,
    caughtUp: (position, names) =>
      Promise.race([
        (async () => {
          await collector.waitFor(position, {
            timeoutMs: CATCH_UP_TIMEOUT_MS,
            ...(names === undefined ? {} : { projections: names }),
          })
          // waitFor resolves once the position is committed; a rebuild is over only when the
          // projection is live again (after the swap), so a timed rebuild waits for that too.
          const wanted = (s: { name: string }) => names === undefined || names.includes(s.name)
          for (;;) {
            const pending = collector.status().filter((s) => wanted(s) && s.state !== 'live')
            if (pending.length === 0) return
            const stuck = pending.find((s) => s.state === 'failed' || s.state === 'stopped')
            if (stuck)
              throw new Error(`projection ${stuck.name} is ${stuck.state}: ${stuck.error?.message ?? ''}`)
            await new Promise((resolve) => setTimeout(resolve, 1))
          }
        })(),
        failed,
      ]),
    async close() {
      await collector.stop()
      if (typeof log === 'string') await events.close()
    },
  }
}

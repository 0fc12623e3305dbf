import type { EventStore } from '@eskit/core'
import type { BenchContext } from '../context.ts'
import { buildTenBothWays, parallelRows } from '../parallel-rounds.ts'

/**
 * Case 9's parallel builds: the ten views of case 11 built from nothing reading the PostgreSQL log
 * (each build worker reads it through its own one-connection reader), with the collector's
 * default `buildWorkers` (cores − 1) against `buildWorkers: 0`, in alternating rounds. Every
 * view's digest is checked in both.
 */
export async function parallelBuildsFromPostgres(
  ctx: BenchContext,
  caseName: string,
  log: EventStore,
): Promise<void> {
  const variant = (workers: number | string) =>
    `log in PostgreSQL: build all ${Math.min(ctx.config.oneOfTen, 10)} (case 11's views), buildWorkers: ${workers}`
  if ((log.workerSource?.() ?? null) === null) {
    ctx.add({ case: caseName, variant: variant('cores − 1'), skipped: 'the log has no worker source' })
    return
  }
  const { serial, parallel, count, workers } = await buildTenBothWays(ctx, {
    caseName,
    label: 'pg-parallel',
    log,
    what: 'from the PostgreSQL log',
  })
  for (const row of parallelRows(serial, parallel, {
    caseName,
    serialVariant: variant('0 (main thread)'),
    parallelVariant: variant(`${workers} (cores − 1)`),
    projectionEvents: ctx.config.events * count,
    note: 'each worker reads the log through its own connection; compare case 11 (SQLite log)',
  }))
    ctx.add(row)
}

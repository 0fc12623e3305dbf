import type { BenchContext } from '../context.ts'
import { buildTenBothWays, parallelRows } from '../parallel-rounds.ts'

const CASE = '11 parallel builds'

/**
 * Case 11: building the ten projections of case 2 from nothing, in worker threads
 * (`buildWorkers`, default cores − 1) against every build on the main thread (`buildWorkers: 0`).
 * Rounds alternate the two, so load from elsewhere on the machine hits both alike.
 */
export async function parallelBuildsCase(ctx: BenchContext): Promise<void> {
  const logFile = await ctx.logs.eskit(ctx.config.events)
  const { serial, parallel, count, workers } = await buildTenBothWays(ctx, {
    caseName: CASE,
    label: 'parallel',
    log: logFile,
    what: 'views',
  })
  for (const row of parallelRows(serial, parallel, {
    caseName: CASE,
    serialVariant: `sqliteStore: build all ${count}, buildWorkers: 0 (main thread)`,
    parallelVariant: `sqliteStore: build all ${count}, buildWorkers: ${workers} (cores − 1)`,
    projectionEvents: ctx.config.events * count,
    atMost: 0.6,
    note: 'workers and the main thread share the builds; swaps on the main thread',
  }))
    ctx.add(row)
}

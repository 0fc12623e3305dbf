import fs from 'node:fs'
import path from 'node:path'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import { assertDigest, viewDigest } from '../checksum.ts'
import { openCollector } from '../collector-run.ts'
import type { BenchContext } from '../context.ts'
import { freshDir } from '../measure.ts'
import { percentile, summarize } from '../stats.ts'
import { recommendedView } from '../views.ts'
import { workloadEvent } from '../workload.ts'

const CASE = '4 live'

/**
 * Case 4: append → visible. With several projections live over the reference log, each of N
 * single-event appends is timed from before `append` until `waitFor(position)` resolves for all.
 */
export async function liveCase(ctx: BenchContext): Promise<void> {
  const { events, liveAppends, liveProjections } = ctx.config
  const dir = freshDir(ctx, 'live')
  const logFile = await ctx.logs.eskitCopy(events, path.join(dir, 'log.db'))
  const names = Array.from({ length: liveProjections }, (_, i) => `passes_${i}`)
  const run = openCollector(
    logFile,
    sqliteStore({ dir: path.join(dir, 'projections') }),
    names.map((n) => recommendedView(n)),
  )
  const latencies: number[] = []
  try {
    ctx.log(`case ${CASE}: catching up ${liveProjections} projections (not timed)`)
    await run.collector.start()
    await run.caughtUp(events)
    ctx.log(`case ${CASE}: ${liveAppends} appends`)
    for (let i = events; i < events + liveAppends; i++) {
      const { streamId, event } = workloadEvent(i, ctx.config.streams)
      const started = performance.now()
      const { position } = await run.events.append(streamId, [event])
      await run.collector.waitFor(position, { timeoutMs: 10_000 })
      latencies.push(performance.now() - started)
    }
    const expected = ctx.expected(events + liveAppends)
    for (const name of names) {
      assertDigest(`live ${name}`, viewDigest(run.collector.reader<Database.Database>(name)), expected)
    }
  } finally {
    await run.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const summary = summarize(latencies)
  ctx.add({
    case: CASE,
    variant: `append → waitFor, ${liveProjections} projections live: median`,
    min: summary.min,
    median: summary.median,
    unit: 'ms',
    rate: 1000 / summary.median,
    rateUnit: 'appends/s',
    target: '< 2 ms',
    met: summary.median < 2,
    note: `${liveAppends} appends, one at a time`,
  })
  ctx.add({
    case: CASE,
    variant: `append → waitFor, ${liveProjections} projections live: p99`,
    median: percentile(latencies, 99),
    unit: 'ms',
    note: `max ${summary.max.toFixed(1)} ms`,
  })
}

import fs from 'node:fs'
import os from 'node:os'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import { assertDigest, viewDigest } from '../checksum.ts'
import { openCollector } from '../collector-run.ts'
import type { BenchContext } from '../context.ts'
import { freshDir } from '../measure.ts'
import { summarize } from '../stats.ts'
import { workerViews } from '../worker-views.ts'

const CASE = '11 parallel builds'

/**
 * Case 11: building the ten projections of case 2 from nothing, in worker threads
 * (`buildWorkers`, default cores − 1) against every build on the main thread (`buildWorkers: 0`).
 * Rounds alternate the two, so load from elsewhere on the machine hits both alike.
 */
export async function parallelBuildsCase(ctx: BenchContext): Promise<void> {
  const { events, oneOfTen, allTenRepeats } = ctx.config
  const count = Math.min(oneOfTen, 10)
  const expected = ctx.expected(events)
  const logFile = await ctx.logs.eskit(events)
  // the collector's default
  const workers = Math.max(1, os.availableParallelism() - 1)
  const samples = { serial: [] as number[], parallel: [] as number[] }

  const buildAll = async (label: 'serial' | 'parallel', attempt: number): Promise<void> => {
    const dir = freshDir(ctx, `parallel-${label}-${attempt}`)
    const views = workerViews(count)
    const started = performance.now()
    const run = openCollector(logFile, sqliteStore({ dir }), views, {
      buildWorkers: label === 'serial' ? 0 : workers,
    })
    try {
      await run.collector.start()
      await run.caughtUp(events)
      samples[label].push(performance.now() - started)
      for (const view of views) {
        assertDigest(
          `${CASE} ${label} ${view.name}`,
          viewDigest(run.collector.reader<Database.Database>(view.name)),
          expected,
        )
      }
    } finally {
      await run.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }

  for (let attempt = 0; attempt < allTenRepeats; attempt++) {
    ctx.log(`case ${CASE}: all ${count} on the main thread (round ${attempt + 1})`)
    await buildAll('serial', attempt)
    ctx.log(`case ${CASE}: all ${count} with ${workers} build worker(s) (round ${attempt + 1})`)
    await buildAll('parallel', attempt)
  }
  const serial = summarize(samples.serial)
  const parallel = summarize(samples.parallel)
  const projectionEvents = events * count
  ctx.add({
    case: CASE,
    variant: `sqliteStore: build all ${count}, buildWorkers: 0 (main thread)`,
    min: serial.min,
    median: serial.median,
    unit: 'ms',
    rate: (projectionEvents / serial.median) * 1000,
    rateUnit: 'projection-events/s',
    samples: serial.samples,
  })
  const ratio = parallel.median / serial.median
  ctx.add({
    case: CASE,
    variant: `sqliteStore: build all ${count}, buildWorkers: ${workers} (cores − 1)`,
    min: parallel.min,
    median: parallel.median,
    unit: 'ms',
    rate: (projectionEvents / parallel.median) * 1000,
    rateUnit: 'projection-events/s',
    ratio,
    ratioOf: 'main thread',
    target: '≤ 0.6× main thread',
    met: ratio <= 0.6,
    samples: parallel.samples,
    note: 'workers and the main thread share the builds; swaps on the main thread',
  })
}

import fs from 'node:fs'
import os from 'node:os'
import type { EventStore } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import { assertDigest, viewDigest } from './checksum.ts'
import { openCollector } from './collector-run.ts'
import type { BenchContext } from './context.ts'
import { freshDir } from './measure.ts'
import type { ResultRow } from './report.ts'
import { type Summary, summarize } from './stats.ts'
import { workerViews } from './worker-views.ts'

/** The collector's default number of build workers here (cores − 1, at least 1). */
export const defaultBuildWorkers = (): number => Math.max(1, os.availableParallelism() - 1)

/**
 * The ten views of case 11 (at most `ctx.config.oneOfTen`) built from nothing reading `log`, with
 * the default build workers against `buildWorkers: 0`, in alternating rounds so load from
 * elsewhere on the machine hits both alike. Every view's digest is checked in both.
 */
export async function buildTenBothWays(
  ctx: BenchContext,
  options: { caseName: string; label: string; log: string | EventStore; what: string },
): Promise<{ serial: Summary; parallel: Summary; count: number; workers: number }> {
  const { events, oneOfTen, allTenRepeats } = ctx.config
  const count = Math.min(oneOfTen, 10)
  const expected = ctx.expected(events)
  const workers = defaultBuildWorkers()
  const samples = { serial: [] as number[], parallel: [] as number[] }
  const buildAll = async (way: 'serial' | 'parallel', attempt: number): Promise<void> => {
    const dir = freshDir(ctx, `${options.label}-${way}-${attempt}`)
    const views = workerViews(count)
    const started = performance.now()
    const run = openCollector(options.log, sqliteStore({ dir }), views, {
      buildWorkers: way === 'serial' ? 0 : workers,
    })
    try {
      await run.collector.start()
      await run.caughtUp(events)
      samples[way].push(performance.now() - started)
      for (const view of views) {
        assertDigest(
          `${options.caseName} ${options.label} ${way} ${view.name}`,
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
    ctx.log(
      `case ${options.caseName}: all ${count} ${options.what} on the main thread (round ${attempt + 1})`,
    )
    await buildAll('serial', attempt)
    ctx.log(
      `case ${options.caseName}: all ${count} ${options.what} with ${workers} build worker(s) (round ${attempt + 1})`,
    )
    await buildAll('parallel', attempt)
  }
  return { serial: summarize(samples.serial), parallel: summarize(samples.parallel), count, workers }
}

/** The two rows of a workers-against-main-thread comparison: the main thread's, then the ratio's. */
export function parallelRows(
  serial: Summary,
  parallel: Summary,
  options: {
    caseName: string
    serialVariant: string
    parallelVariant: string
    projectionEvents: number
    note: string
    /** The target ratio to the main thread, if the case has one. */
    atMost?: number
  },
): [ResultRow, ResultRow] {
  const { caseName, projectionEvents, atMost } = options
  const ratio = parallel.median / serial.median
  const timed = (variant: string, summary: Summary): ResultRow => ({
    case: caseName,
    variant,
    min: summary.min,
    median: summary.median,
    unit: 'ms',
    rate: (projectionEvents / summary.median) * 1000,
    rateUnit: 'projection-events/s',
    samples: summary.samples,
  })
  return [
    timed(options.serialVariant, serial),
    {
      ...timed(options.parallelVariant, parallel),
      ratio,
      ratioOf: 'main thread',
      ...(atMost === undefined ? {} : { target: `≤ ${atMost}× main thread`, met: ratio <= atMost }),
      note: options.note,
    },
  ]
}

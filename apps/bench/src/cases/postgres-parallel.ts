import fs from 'node:fs'
import os from 'node:os'
import type { EventStore } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import { assertDigest, viewDigest } from '../checksum.ts'
import { openCollector } from '../collector-run.ts'
import type { BenchContext } from '../context.ts'
import { freshDir } from '../measure.ts'
import { summarize } from '../stats.ts'
import { workerViews } from '../worker-views.ts'

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
  const { events, oneOfTen, allTenRepeats } = ctx.config
  const count = Math.min(oneOfTen, 10)
  const variant = (workers: number | string) =>
    `log in PostgreSQL: build all ${count} (case 11's views), buildWorkers: ${workers}`
  if ((log.workerSource?.() ?? null) === null) {
    ctx.add({ case: caseName, variant: variant('cores − 1'), skipped: 'the log has no worker source' })
    return
  }
  const expected = ctx.expected(events)
  const workers = Math.max(1, os.availableParallelism() - 1)
  const samples = { serial: [] as number[], parallel: [] as number[] }
  const buildAll = async (label: 'serial' | 'parallel', attempt: number): Promise<void> => {
    const dir = freshDir(ctx, `pg-parallel-${label}-${attempt}`)
    const views = workerViews(count)
    const started = performance.now()
    const run = openCollector(log, sqliteStore({ dir }), views, {
      buildWorkers: label === 'serial' ? 0 : workers,
    })
    try {
      await run.collector.start()
      await run.caughtUp(events)
      samples[label].push(performance.now() - started)
      for (const view of views) {
        assertDigest(
          `${caseName} parallel ${label} ${view.name}`,
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
      `case ${caseName}: all ${count} from the PostgreSQL log on the main thread (round ${attempt + 1})`,
    )
    await buildAll('serial', attempt)
    ctx.log(`case ${caseName}: all ${count} from the PostgreSQL log with ${workers} build worker(s)`)
    await buildAll('parallel', attempt)
  }
  const serial = summarize(samples.serial)
  const parallel = summarize(samples.parallel)
  const projectionEvents = events * count
  ctx.add({
    case: caseName,
    variant: variant('0 (main thread)'),
    min: serial.min,
    median: serial.median,
    unit: 'ms',
    rate: (projectionEvents / serial.median) * 1000,
    rateUnit: 'projection-events/s',
    samples: serial.samples,
  })
  ctx.add({
    case: caseName,
    variant: variant(`${workers} (cores − 1)`),
    min: parallel.min,
    median: parallel.median,
    unit: 'ms',
    rate: (projectionEvents / parallel.median) * 1000,
    rateUnit: 'projection-events/s',
    ratio: parallel.median / serial.median,
    ratioOf: 'main thread',
    samples: parallel.samples,
    note: 'each worker reads the log through its own connection; compare case 11 (SQLite log)',
  })
}

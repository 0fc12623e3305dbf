import fs from 'node:fs'
import path from 'node:path'
import type { Projection, ProjectionStore } from '@eskit/core'
import Database from 'better-sqlite3'
import { assertDigest, type ViewDigest, viewDigest } from './checksum.ts'
import { openCollector } from './collector-run.ts'
import type { BenchContext } from './context.ts'
import { rawRebuild } from './raw.ts'
import type { ResultRow } from './report.ts'
import { repeat, type Summary } from './stats.ts'

/** A fresh, empty directory under the run's temp dir. */
export function freshDir(ctx: BenchContext, name: string): string {
  const dir = path.join(ctx.tmp, name)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

/** A throughput row: events/s from the median time, and the ratio to a baseline's median. */
export function rateRow(
  caseName: string,
  variant: string,
  summary: Summary,
  events: number,
  baseline?: { medianMs: number; of: string },
  target?: { text: string; min: number },
): ResultRow {
  const row: ResultRow = {
    case: caseName,
    variant,
    min: summary.min,
    median: summary.median,
    unit: 'ms',
    rate: (events / summary.median) * 1000,
    rateUnit: 'events/s',
    samples: summary.samples,
  }
  if (baseline) {
    row.ratio = baseline.medianMs / summary.median
    row.ratioOf = baseline.of
  }
  if (target && row.ratio !== undefined) {
    row.target = target.text
    row.met = row.ratio >= target.min
  }
  return row
}

/** Times the raw baseline over a raw log, checking its result; returns the summary. */
export async function measureRaw(
  ctx: BenchContext,
  label: string,
  events: number,
  expected: ViewDigest,
  repeats: number,
  streams?: number,
): Promise<Summary> {
  const logFile = ctx.logs.raw(events, streams)
  return repeat(repeats, async (attempt) => {
    const dir = freshDir(ctx, `${label}-${attempt}`)
    const viewFile = path.join(dir, 'passes.db')
    const ms = rawRebuild(logFile, viewFile)
    const db = new Database(viewFile, { readonly: true })
    try {
      assertDigest(label, viewDigest(db), expected)
    } finally {
      db.close()
    }
    fs.rmSync(dir, { recursive: true, force: true })
    return ms
  })
}

/** One projection to check after a rebuild: its name and the table it writes. */
export interface Checked {
  name: string
  table?: string
}

/**
 * Times a rebuild from an empty store: from opening the log and the store until every projection
 * has committed the log's head. The result of each `check`ed projection is compared before the
 * time counts.
 */
export async function measureCollectorRebuild(
  ctx: BenchContext,
  options: {
    label: string
    logFile: string
    head: number
    expected: ViewDigest
    repeats: number
    store: (dir: string) => ProjectionStore<any>
    projections: () => Projection<any>[]
    check: Checked[]
  },
): Promise<Summary> {
  return repeat(options.repeats, async (attempt) => {
    const dir = freshDir(ctx, `${options.label}-${attempt}`)
    const started = performance.now()
    const run = openCollector(options.logFile, options.store(dir), options.projections())
    try {
      await run.collector.start()
      await run.caughtUp(options.head)
      const ms = performance.now() - started
      for (const { name, table } of options.check) {
        assertDigest(
          `${options.label} ${name}`,
          viewDigest(run.collector.reader<Database.Database>(name), table),
          options.expected,
        )
      }
      return ms
    } finally {
      await run.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}

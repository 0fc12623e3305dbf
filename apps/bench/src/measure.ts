import fs from 'node:fs'
import path from 'node:path'
import type { EventStore, Projection, ProjectionStore } from '@eskit/core'
import Database from 'better-sqlite3'
import { assertDigest, type ViewDigest, viewDigest } from './checksum.ts'
import { openCollector } from './collector-run.ts'
import type { BenchContext } from './context.ts'
import { type RawPragmas, rawRebuild } from './raw.ts'
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

/** One timed raw rebuild over a raw log, its result checked; returns the milliseconds. */
export function rawSample(
  ctx: BenchContext,
  label: string,
  events: number,
  expected: ViewDigest,
  options: { streams?: number; pragmas?: RawPragmas } = {},
): number {
  const logFile = ctx.logs.raw(events, options.streams)
  const dir = freshDir(ctx, label)
  try {
    const viewFile = path.join(dir, 'passes.db')
    const ms = rawRebuild(logFile, viewFile, 1000, options.pragmas)
    const db = new Database(viewFile, { readonly: true })
    try {
      assertDigest(label, viewDigest(db), expected)
    } finally {
      db.close()
    }
    return ms
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Times the raw baseline `repeats` times; returns the summary. */
export async function measureRaw(
  ctx: BenchContext,
  label: string,
  events: number,
  expected: ViewDigest,
  repeats: number,
  streams?: number,
): Promise<Summary> {
  return repeat(repeats, async (attempt) =>
    rawSample(ctx, `${label}-${attempt}`, events, expected, streams === undefined ? {} : { streams }),
  )
}

/** One projection to check after a rebuild: its name and the table it writes. */
export interface Checked {
  name: string
  table?: string
}

/** What a timed collector rebuild runs. */
export interface CollectorRebuildOptions {
  label: string
  logFile: string
  /** An open event store to read instead of `logFile` (kept open: the caller's). */
  open?: EventStore | undefined
  head: number
  expected: ViewDigest
  store: (dir: string) => ProjectionStore<any>
  projections: () => Projection<any>[]
  check: Checked[]
}

/**
 * One timed rebuild from an empty store: from opening the log and the store until every
 * projection has committed the log's head and is live. The result of each `check`ed projection
 * is compared before the time counts. Returns the milliseconds.
 */
export async function collectorRebuildSample(
  ctx: BenchContext,
  options: CollectorRebuildOptions,
): Promise<number> {
  const dir = freshDir(ctx, options.label)
  const started = performance.now()
  const run = openCollector(options.open ?? options.logFile, options.store(dir), options.projections())
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
}

/** Times a collector rebuild `repeats` times; returns the summary. */
export async function measureCollectorRebuild(
  ctx: BenchContext,
  options: CollectorRebuildOptions & { repeats: number },
): Promise<Summary> {
  return repeat(options.repeats, async (attempt) =>
    collectorRebuildSample(ctx, { ...options, label: `${options.label}-${attempt}` }),
  )
}

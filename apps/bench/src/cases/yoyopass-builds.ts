import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Projection } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import Database from 'better-sqlite3'
import { seed } from 'yoyopass/seed'
import { dailyStats, passView, scanLog, serviceList } from 'yoyopass/worker-views'
import { assertDigest, tablesDigest, type ViewDigest } from '../checksum.ts'
import { openCollector } from '../collector-run.ts'
import type { BenchContext } from '../context.ts'
import { freshDir } from '../measure.ts'
import { defaultBuildWorkers, parallelRows } from '../parallel-rounds.ts'
import { summarize } from '../stats.ts'

const CASE = '12 yoyopass first build'

// yoyopass's own views, from the module its build worker threads import (dist/worker-views.mjs)
const VIEWS = [serviceList, passView, scanLog, dailyStats] as unknown as Projection<any>[]

/** The table each view keeps one row per event of a type in: what the log itself says it must hold. */
const ROWS_PER_TYPE: Record<string, { table: string; type: string }> = {
  'services.service_list': { table: 'services', type: 'ServiceCreated' },
  'passes.pass_view': { table: 'passes', type: 'PassIssued' },
  'scanning.scan_log': { table: 'scans', type: 'PassScanned' },
}

/** yoyopass's seed at `passes` passes (fixed PRNG seed and day), kept with the other logs. */
async function yoyopassLog(ctx: BenchContext, passes: number): Promise<string> {
  // a changed generator is another log
  const generator = createHash('sha256')
    .update(fs.readFileSync(fileURLToPath(import.meta.resolve('yoyopass/seed'))))
    .digest('hex')
    .slice(0, 8)
  return ctx.logs.other(`yoyopass-${passes}-${generator}.db`, async (file) => {
    // set-up, not measured: no journal, no fsync, as the other logs
    const db = new Database(file)
    db.pragma('journal_mode = MEMORY')
    db.pragma('synchronous = OFF')
    const events = openSqliteEventStore({ database: db })
    try {
      await seed(events, { passes, seed: 1, now: new Date('2026-06-01T00:00:00Z') })
    } finally {
      await events.close()
      db.close()
    }
  })
}

/** Head and events per type of a log file. */
function logFacts(file: string): { head: number; types: Map<string, number> } {
  const db = new Database(file, { readonly: true })
  try {
    const rows = db.prepare('select type, count(*) as n from events group by type').all() as Array<{
      type: string
      n: number
    }>
    const types = new Map(rows.map((row) => [row.type, row.n]))
    return { head: [...types.values()].reduce((a, b) => a + b, 0), types }
  } finally {
    db.close()
  }
}

/**
 * Case 12: yoyopass's first start on a log of its own seed — its four views (`services.service_list`,
 * `passes.pass_view`, `scanning.scan_log`, `scanning.daily_stats`) built from nothing, with the
 * collector's default build workers (cores − 1) against `buildWorkers: 0`, in alternating
 * rounds. Every build's tables must equal the first main-thread build's, and the views that keep
 * a row per event must hold as many rows as the log has events of that type. Then each view is
 * built alone on the main thread once: how unequal the four are, which is what a split of whole
 * views between threads is bound by.
 */
export async function yoyopassBuildsCase(ctx: BenchContext): Promise<void> {
  // three rounds in full mode: a true median of alternating pairs on a shared machine
  const { repeats, yoyopassPasses } = ctx.config
  const logFile = await yoyopassLog(ctx, yoyopassPasses)
  const { head, types } = logFacts(logFile)
  const workers = defaultBuildWorkers()
  const samples = { serial: [] as number[], parallel: [] as number[] }
  // the first main-thread build's tables: what every later build must equal
  const expected = new Map<string, ViewDigest>()

  const build = async (label: string, views: Projection<any>[], buildWorkers?: number): Promise<number> => {
    const dir = freshDir(ctx, `yoyopass-${label}`)
    const started = performance.now()
    const run = openCollector(
      logFile,
      sqliteStore({ dir }),
      views,
      buildWorkers === undefined ? {} : { buildWorkers },
    )
    try {
      await run.collector.start()
      await run.caughtUp(head)
      const ms = performance.now() - started
      for (const view of views) {
        const db = run.collector.reader<Database.Database>(view.name)
        const digest = tablesDigest(db)
        const reference = expected.get(view.name)
        if (reference) assertDigest(`${CASE} ${label} ${view.name}`, digest, reference)
        else expected.set(view.name, digest)
        const perEvent = ROWS_PER_TYPE[view.name]
        if (perEvent) {
          const rows = db.prepare(`select count(*) from ${perEvent.table}`).pluck().get() as number
          const wanted = types.get(perEvent.type) ?? 0
          if (rows !== wanted)
            throw new Error(
              `${CASE} ${label} ${view.name}: ${rows} rows, the log has ${wanted} ${perEvent.type}`,
            )
        }
      }
      return ms
    } finally {
      await run.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }

  for (let attempt = 0; attempt < repeats; attempt++) {
    ctx.log(`case ${CASE}: the four views on the main thread (round ${attempt + 1})`)
    samples.serial.push(await build(`serial-${attempt}`, VIEWS, 0))
    ctx.log(`case ${CASE}: the four views with ${workers} build worker(s) (round ${attempt + 1})`)
    samples.parallel.push(await build(`parallel-${attempt}`, VIEWS))
  }
  const serial = summarize(samples.serial)
  const parallel = summarize(samples.parallel)
  const viewEvents = (view: Projection<any>) =>
    (view.eventTypes ?? [...types.keys()]).reduce((n, type) => n + (types.get(type) ?? 0), 0)
  const projectionEvents = VIEWS.reduce((n, view) => n + viewEvents(view), 0)
  for (const row of parallelRows(serial, parallel, {
    caseName: CASE,
    serialVariant: `sqliteStore: yoyopass's 4 views, ${head} events, buildWorkers: 0 (main thread)`,
    parallelVariant: `sqliteStore: yoyopass's 4 views, ${head} events, default buildWorkers (${workers})`,
    projectionEvents,
    atMost: 0.65,
    note: 'whole views are split between the workers and the main thread; swaps on the main thread',
  }))
    ctx.add(row)

  // where the time goes: each view alone, on the main thread
  for (const view of VIEWS) {
    ctx.log(`case ${CASE}: ${view.name} alone on the main thread`)
    const ms = await build(`alone-${view.name}`, [view], 0)
    ctx.add({
      case: CASE,
      variant: `${view.name} alone, main thread`,
      min: ms,
      median: ms,
      unit: 'ms',
      rate: (viewEvents(view) / ms) * 1000,
      rateUnit: 'events/s',
      ratio: ms / serial.median,
      ratioOf: 'all four, main thread',
      samples: [ms],
    })
  }
}

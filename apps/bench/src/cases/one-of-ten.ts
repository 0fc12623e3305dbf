import fs from 'node:fs'
import path from 'node:path'
import type { Projection, ProjectionStore } from '@eskit/core'
import { sharedStore } from '@eskit/shared-store'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import { assertDigest, type ViewDigest, viewDigest } from '../checksum.ts'
import { type CollectorRun, openCollector } from '../collector-run.ts'
import type { BenchContext } from '../context.ts'
import { removeDatabase } from '../logs.ts'
import { freshDir } from '../measure.ts'
import type { ResultRow } from '../report.ts'
import { repeat, type Summary, summarize } from '../stats.ts'
import { recommendedView } from '../views.ts'

const CASE = '2 one of ten'

function allRow(variant: string, all: Summary, projectionEvents: number): ResultRow {
  return {
    case: CASE,
    variant,
    min: all.min,
    median: all.median,
    unit: 'ms',
    rate: (projectionEvents / all.median) * 1000,
    rateUnit: 'projection-events/s',
    samples: all.samples,
  }
}

/** The target (DESIGN.md) is per-file; shared mode is shown beside it without one. */
function ratioRow(variant: string, one: Summary, all: Summary, note: string, target: boolean): ResultRow {
  const ratio = one.median / all.median
  return {
    case: CASE,
    variant,
    min: one.min,
    median: one.median,
    unit: 'ms',
    ratio,
    ratioOf: 'all ten',
    ...(target ? { target: '≤ 0.15× all ten', met: ratio <= 0.15 } : {}),
    samples: one.samples,
    note,
  }
}

/**
 * Builds all the projections from nothing (timed, `times` times, each in a fresh directory) and
 * returns the timings with the last run's directory and, when `keepOpen`, its running collector.
 */
async function buildAll(
  ctx: BenchContext,
  options: {
    label: string
    times: number
    logFile: string
    head: number
    expected: ViewDigest
    store: (dir: string) => ProjectionStore<any>
    projections: () => Projection<any>[]
    check: { name: string; table?: string }[]
    keepOpen: boolean
  },
): Promise<{ summary: Summary; dir: string; run?: CollectorRun }> {
  const samples: number[] = []
  let dir = ''
  let kept: CollectorRun | undefined
  for (let attempt = 0; attempt < options.times; attempt++) {
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
    dir = freshDir(ctx, `${options.label}-${attempt}`)
    const started = performance.now()
    const run = openCollector(options.logFile, options.store(dir), options.projections())
    const last = attempt === options.times - 1
    try {
      await run.collector.start()
      await run.caughtUp(options.head)
      samples.push(performance.now() - started)
      for (const { name, table } of options.check) {
        assertDigest(
          `${options.label} ${name}`,
          viewDigest(run.collector.reader<Database.Database>(name), table),
          options.expected,
        )
      }
    } finally {
      if (last && options.keepOpen) kept = run
      else await run.close()
    }
  }
  return { summary: summarize(samples), dir, ...(kept ? { run: kept } : {}) }
}

/**
 * Case 2: ten projections over the same log. Rebuilding all ten from nothing, against rebuilding
 * one: per-file by deleting its file and restarting; shared by `collector.rebuild(name)`.
 */
export async function oneOfTenCase(ctx: BenchContext): Promise<void> {
  const { events, oneOfTen: count, repeats, allTenRepeats } = ctx.config
  const expected = ctx.expected(events)
  const logFile = await ctx.logs.eskit(events)
  const names = Array.from({ length: count }, (_, i) => `passes_${i}`)
  const target = names[Math.floor(count / 2)] as string

  // Per-file: every projection writes table `passes` in its own file.
  ctx.log(`case ${CASE}: per-file, all ${count}`)
  const perFileProjections = () => names.map((name) => recommendedView(name))
  const perFile = await buildAll(ctx, {
    label: 'ten-files',
    times: allTenRepeats,
    logFile,
    head: events,
    expected,
    store: (dir) => sqliteStore({ dir }),
    projections: perFileProjections,
    check: names.map((name) => ({ name })),
    keepOpen: false,
  })
  ctx.add(allRow(`sqliteStore: rebuild all ${count}`, perFile.summary, events * count))

  ctx.log(`case ${CASE}: per-file, delete one file and restart`)
  const one = await repeat(repeats, async () => {
    removeDatabase(path.join(perFile.dir, `${target}.db`))
    const started = performance.now()
    const run = openCollector(logFile, sqliteStore({ dir: perFile.dir }), perFileProjections())
    try {
      await run.collector.start()
      // Behaviour 5: the other nine serve at once from their files, their checkpoints not moved back.
      const moved = run.collector.status().filter((s) => s.name !== target && s.position !== events)
      if (moved.length > 0)
        throw new Error(`one of ten: ${moved.map((s) => s.name).join(', ')} not current after start()`)
      await run.caughtUp(events, [target])
      const ms = performance.now() - started
      assertDigest(
        `one of ten ${target}`,
        viewDigest(run.collector.reader<Database.Database>(target)),
        expected,
      )
      return ms
    } finally {
      await run.close()
    }
  })
  ctx.add(
    ratioRow(
      `sqliteStore: delete ${target}.db, restart`,
      one,
      perFile.summary,
      'until that one is live again',
      true,
    ),
  )
  fs.rmSync(perFile.dir, { recursive: true, force: true })

  // Shared: one database, so each copy needs its own table.
  ctx.log(`case ${CASE}: shared, all ${count}`)
  const shared = await buildAll(ctx, {
    label: 'ten-shared',
    times: allTenRepeats,
    logFile,
    head: events,
    expected,
    store: (dir) => sharedStore({ path: path.join(dir, 'shared.db') }),
    projections: () => names.map((name) => recommendedView(name, name)),
    check: names.map((name) => ({ name, table: name })),
    keepOpen: true,
  })
  ctx.add(allRow(`sharedStore: rebuild all ${count}`, shared.summary, events * count))

  ctx.log(`case ${CASE}: shared, collector.rebuild(one)`)
  const run = shared.run as CollectorRun
  try {
    const oneShared = await repeat(repeats, async () => {
      const started = performance.now()
      await run.collector.rebuild(target)
      await run.caughtUp(events, [target])
      const ms = performance.now() - started
      assertDigest(
        `one of ten shared ${target}`,
        viewDigest(run.collector.reader<Database.Database>(target), target),
        expected,
      )
      return ms
    })
    ctx.add(
      ratioRow(
        `sharedStore: collector.rebuild('${target}')`,
        oneShared,
        shared.summary,
        'drops and rebuilds its tables',
        false,
      ),
    )
  } finally {
    await run.close()
    fs.rmSync(shared.dir, { recursive: true, force: true })
  }
}

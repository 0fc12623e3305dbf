import fs from 'node:fs'
import path from 'node:path'
import { sharedStore } from '@eskit/shared-store'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import { assertDigest, viewDigest } from '../checksum.ts'
import { openCollector } from '../collector-run.ts'
import type { BenchContext } from '../context.ts'
import { removeDatabase } from '../logs.ts'
import { freshDir, measureCollectorRebuild } from '../measure.ts'
import type { ResultRow } from '../report.ts'
import { repeat, type Summary } from '../stats.ts'
import { recommendedView } from '../views.ts'

const CASE = '2 one of ten'

function ratioRow(variant: string, one: Summary, all: Summary, note: string): ResultRow {
  const ratio = one.median / all.median
  return {
    case: CASE,
    variant,
    min: one.min,
    median: one.median,
    unit: 'ms',
    ratio,
    ratioOf: 'all ten',
    target: '≤ 0.15× all ten',
    met: ratio <= 0.15,
    samples: one.samples,
    note,
  }
}

/**
 * Case 2: ten projections over the same log. Rebuilding all ten from nothing, against rebuilding
 * one: per-file by deleting its file and restarting; shared by `collector.rebuild(name)`.
 */
export async function oneOfTenCase(ctx: BenchContext): Promise<void> {
  const { events, oneOfTen: count, repeats, slowRepeats } = ctx.config
  const expected = ctx.expected(events)
  const logFile = await ctx.logs.eskit(events)
  const names = Array.from({ length: count }, (_, i) => `passes_${i}`)
  const target = names[Math.floor(count / 2)] as string

  // Per-file: every projection writes table `passes` in its own file.
  ctx.log(`case ${CASE}: per-file, all ${count}`)
  const perFileProjections = () => names.map((name) => recommendedView(name))
  const allPerFile = await measureCollectorRebuild(ctx, {
    label: 'ten-files',
    logFile,
    head: events,
    expected,
    repeats: slowRepeats,
    store: (dir) => sqliteStore({ dir }),
    projections: perFileProjections,
    check: names.map((name) => ({ name })),
  })
  ctx.add({
    case: CASE,
    variant: `sqliteStore: rebuild all ${count}`,
    min: allPerFile.min,
    median: allPerFile.median,
    unit: 'ms',
    rate: ((events * count) / allPerFile.median) * 1000,
    rateUnit: 'projection-events/s',
    samples: allPerFile.samples,
  })

  ctx.log(`case ${CASE}: per-file, delete one file and restart`)
  const dir = freshDir(ctx, 'ten-files-kept')
  const build = openCollector(logFile, sqliteStore({ dir }), perFileProjections())
  await build.collector.start()
  await build.caughtUp(events)
  await build.close()
  const one = await repeat(repeats, async () => {
    removeDatabase(path.join(dir, `${target}.db`))
    const started = performance.now()
    const run = openCollector(logFile, sqliteStore({ dir }), perFileProjections())
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
      allPerFile,
      'time until that one is caught up',
    ),
  )
  fs.rmSync(dir, { recursive: true, force: true })

  // Shared: one database, so each copy needs its own table.
  ctx.log(`case ${CASE}: shared, all ${count}`)
  const sharedProjections = () => names.map((name) => recommendedView(name, name))
  const allShared = await measureCollectorRebuild(ctx, {
    label: 'ten-shared',
    logFile,
    head: events,
    expected,
    repeats: slowRepeats,
    store: (d) => sharedStore({ path: path.join(d, 'shared.db') }),
    projections: sharedProjections,
    check: names.map((name) => ({ name, table: name })),
  })
  ctx.add({
    case: CASE,
    variant: `sharedStore: rebuild all ${count}`,
    min: allShared.min,
    median: allShared.median,
    unit: 'ms',
    rate: ((events * count) / allShared.median) * 1000,
    rateUnit: 'projection-events/s',
    samples: allShared.samples,
  })

  ctx.log(`case ${CASE}: shared, collector.rebuild(one)`)
  const sharedDir = freshDir(ctx, 'ten-shared-kept')
  const run = openCollector(
    logFile,
    sharedStore({ path: path.join(sharedDir, 'shared.db') }),
    sharedProjections(),
  )
  try {
    await run.collector.start()
    await run.caughtUp(events)
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
        allShared,
        'drops and rebuilds its tables',
      ),
    )
  } finally {
    await run.close()
    fs.rmSync(sharedDir, { recursive: true, force: true })
  }
}

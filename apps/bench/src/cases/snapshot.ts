import fs from 'node:fs'
import { createReader } from '@eskit/kysely-views'
import { snapshotProjections, sqliteStore } from '@eskit/sqlite-store'
import { openCollector } from '../collector-run.ts'
import type { BenchContext } from '../context.ts'
import { freshDir } from '../measure.ts'
import { repeat } from '../stats.ts'
import { recommendedView } from '../views.ts'

const CASE = '10 new node'

/** The passes of a node's copy of the view, counted through a reader (the node serves). */
async function countPasses(run: ReturnType<typeof openCollector>, view: ReturnType<typeof recommendedView>) {
  const answer = await createReader(run.collector, view)
    .selectFrom('passes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(answer.n)
}

/**
 * Case 10: a new node for the reference workload. Either it starts with no files and rebuilds the
 * view from the whole log, or it starts from `snapshotProjections` of a running node's files
 * (taken while that node owns its directory) and replays only what follows their checkpoint.
 * Both are timed until the node serves the view at the head; the copy must hold the same rows.
 */
export async function newNodeCase(ctx: BenchContext): Promise<void> {
  const { events, repeats } = ctx.config
  const expectedRows = ctx.expected(events).rows
  const logFile = await ctx.logs.eskit(events)
  const sourceDir = freshDir(ctx, 'new-node-source')

  ctx.log(`case ${CASE}: building the source node (not timed)`)
  const source = openCollector(logFile, sqliteStore({ dir: sourceDir }), [recommendedView('passes')])
  await source.collector.start()
  await source.caughtUp(events)
  try {
    ctx.log(`case ${CASE}: ${repeats} full rebuilds, ${repeats} starts from a snapshot`)
    const rebuild = await repeat(repeats, async (attempt) => {
      const dir = freshDir(ctx, `new-node-rebuild-${attempt}`)
      const view = recommendedView('passes')
      const started = performance.now()
      const run = openCollector(logFile, sqliteStore({ dir }), [view])
      try {
        await run.collector.start()
        await run.caughtUp(events)
        const ms = performance.now() - started
        const rows = await countPasses(run, view)
        if (rows !== expectedRows)
          throw new Error(`${CASE}: rebuilt node holds ${rows} passes, expected ${expectedRows}`)
        return ms
      } finally {
        await run.close()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })
    const copies: number[] = []
    const snapshot = await repeat(repeats, async (attempt) => {
      const dir = freshDir(ctx, `new-node-snapshot-${attempt}`)
      const view = recommendedView('passes')
      const started = performance.now()
      // taken from the running source node: it owns its directory throughout
      const report = await snapshotProjections({ dir: sourceDir, out: dir })
      copies.push(performance.now() - started)
      if (report.projections[0]?.position !== events) {
        throw new Error(
          `${CASE}: the snapshot holds position ${report.projections[0]?.position}, expected ${events}`,
        )
      }
      const run = openCollector(logFile, sqliteStore({ dir }), [view])
      try {
        await run.collector.start()
        await run.caughtUp(events)
        const ms = performance.now() - started
        const rows = await countPasses(run, view)
        if (rows !== expectedRows)
          throw new Error(`${CASE}: the snapshot node holds ${rows} passes, expected ${expectedRows}`)
        return ms
      } finally {
        await run.close()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })
    ctx.add({
      case: CASE,
      variant: 'full rebuild (no files)',
      min: rebuild.min,
      median: rebuild.median,
      unit: 'ms',
      rate: (events / rebuild.median) * 1000,
      rateUnit: 'events/s',
      samples: rebuild.samples,
    })
    ctx.add({
      case: CASE,
      variant: 'from a snapshot of a running node (copy + start)',
      min: snapshot.min,
      median: snapshot.median,
      unit: 'ms',
      ratio: snapshot.median / rebuild.median,
      ratioOf: 'full rebuild',
      samples: snapshot.samples,
      note: `of which the copy: median ${Math.round(copies.sort((a, b) => a - b)[Math.floor(copies.length / 2)] ?? 0)} ms; nothing to replay (the copy is at the head)`,
    })
  } finally {
    await source.close()
  }
}

import path from 'node:path'
import { sharedStore } from '@eskit/shared-store'
import { sqliteStore } from '@eskit/sqlite-store'
import type { BenchContext } from '../context.ts'
import { measureCollectorRebuild, rateRow } from '../measure.ts'
import { handWrittenProjection, naiveKyselyProjection, perEventView, recommendedView } from '../views.ts'

const CASE = '1 rebuild'

/**
 * Case 1: rebuild throughput of the reference workload, each eskit variant against the raw
 * better-sqlite3 loop measured in the same run (by {@link rawBaselineCase}, just before).
 */
export async function rebuildCase(ctx: BenchContext): Promise<void> {
  const { events, repeats, slowRepeats } = ctx.config
  const expected = ctx.expected(events)
  const rawMedianMs = ctx.baselines.rawRebuildMedianMs
  if (rawMedianMs === undefined) throw new Error('the raw baseline did not run')
  const baseline = { medianMs: rawMedianMs, of: 'raw' }

  const logFile = await ctx.logs.eskit(events)
  const variants = [
    {
      variant: 'sqliteStore + defineView, recommended (defineStatements)',
      store: (dir: string) => sqliteStore({ dir }),
      projection: () => recommendedView('passes'),
      repeats,
      target: { text: '≥ 0.5× raw', min: 0.5 },
    },
    {
      variant: 'sqliteStore + defineView, per-event Kysely query',
      store: (dir: string) => sqliteStore({ dir }),
      projection: () => perEventView('passes'),
      repeats,
    },
    {
      variant: 'sqliteStore + hand-written Projection (prepared statements)',
      store: (dir: string) => sqliteStore({ dir }),
      projection: () => handWrittenProjection('passes'),
      repeats,
    },
    {
      variant: 'sharedStore + defineView, recommended',
      store: (dir: string) => sharedStore({ path: path.join(dir, 'shared.db') }),
      projection: () => recommendedView('passes'),
      repeats,
    },
    {
      variant: 'sqliteStore + naive async Kysely (SqliteDialect, await per event)',
      store: (dir: string) => sqliteStore({ dir }),
      projection: () => naiveKyselyProjection('passes'),
      repeats: slowRepeats,
    },
  ]
  for (const v of variants) {
    ctx.log(`case ${CASE}: ${v.variant}`)
    const summary = await measureCollectorRebuild(ctx, {
      label: `rebuild-${variants.indexOf(v)}`,
      logFile,
      head: events,
      expected,
      repeats: v.repeats,
      store: v.store,
      projections: () => [v.projection()],
      check: [{ name: 'passes' }],
    })
    ctx.add(rateRow(CASE, v.variant, summary, events, baseline, v.target))
  }
}

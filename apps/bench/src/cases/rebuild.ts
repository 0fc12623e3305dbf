import path from 'node:path'
import type { ProjectionStore } from '@eskit/core'
import type { BenchContext } from '../context.ts'
import { collectorRebuildSample, rateRow, rawSample } from '../measure.ts'
import { summarize } from '../stats.ts'
import { handWrittenProjection, naiveKyselyProjection, perEventView, recommendedView } from '../views.ts'

const CASE = '1 rebuild'

interface Contender {
  variant: string
  /** Rounds it takes part in (the slow ones fewer). */
  rounds: number
  sample: (round: number) => Promise<number>
  target?: { text: string; min: number }
  /** The recommended style: its rate is the reference of other cases (readAll's target). */
  recommended?: true
}

/** The stores, loaded here so a store not built yet skips its variants instead of the case. */
async function loadStores(): Promise<{
  sqliteStore?: (options: { dir: string }) => ProjectionStore<any>
  sharedStore?: (options: { path: string }) => ProjectionStore<any>
  missing: string[]
}> {
  const missing: string[] = []
  const load = async <T>(name: string, pick: (module: any) => T | undefined): Promise<T | undefined> => {
    try {
      const found = pick(await import(name))
      if (typeof found !== 'function') missing.push(`${name} has no export yet`)
      return typeof found === 'function' ? found : undefined
    } catch (error) {
      missing.push((error as Error).message.split('\n')[0] as string)
      return undefined
    }
  }
  const sqliteStore = await load('@eskit/sqlite-store', (m) => m.sqliteStore)
  const sharedStore = await load('@eskit/shared-store', (m) => m.sharedStore)
  return { ...(sqliteStore ? { sqliteStore } : {}), ...(sharedStore ? { sharedStore } : {}), missing }
}

/**
 * Case 1: rebuild throughput of the reference workload, each eskit variant against the raw
 * better-sqlite3 loop. The variants run in interleaved rounds (raw, then each variant, then raw
 * again…) so a load spike on this shared machine hits them alike instead of one variant.
 */
export async function rebuildCase(ctx: BenchContext): Promise<void> {
  const { events, rebuildRounds: repeats, slowRepeats } = ctx.config
  const expected = ctx.expected(events)
  const logFile = await ctx.logs.eskit(events)
  ctx.logs.raw(events)
  const stores = await loadStores()
  const collector =
    (label: string, store: (dir: string) => ProjectionStore<any>, make: () => any) => (round: number) =>
      collectorRebuildSample(ctx, {
        label: `rebuild-${label}-${round}`,
        logFile,
        head: events,
        expected,
        store,
        projections: () => [make()],
        check: [{ name: 'passes' }],
      })

  const contenders: Contender[] = [
    {
      variant: 'raw better-sqlite3 (baseline)',
      rounds: repeats,
      sample: async (round) => rawSample(ctx, `rebuild-raw-${round}`, events, expected),
    },
    {
      variant: 'raw better-sqlite3, build pragmas (no journal, sync OFF)',
      rounds: repeats,
      sample: async (round) =>
        rawSample(ctx, `rebuild-raw-build-${round}`, events, expected, { pragmas: 'build' }),
    },
  ]
  const skipped: string[] = []
  const { sqliteStore, sharedStore } = stores
  if (sqliteStore) {
    const files = (dir: string) => sqliteStore({ dir })
    contenders.push(
      {
        variant: 'sqliteStore + defineView, recommended (defineStatements)',
        rounds: repeats,
        sample: collector('recommended', files, () => recommendedView('passes')),
        target: { text: '≥ 0.5× raw', min: 0.5 },
        recommended: true,
      },
      {
        // Recorded and compiled once per query structure (issue #19): fast enough for every round.
        variant: 'sqliteStore + defineView, per-event Kysely query',
        rounds: repeats,
        sample: collector('per-event', files, () => perEventView('passes')),
        target: { text: '≥ 0.5× raw', min: 0.5 },
      },
      {
        variant: 'sqliteStore + hand-written Projection (prepared statements)',
        rounds: repeats,
        sample: collector('hand-written', files, () => handWrittenProjection('passes')),
      },
    )
  } else skipped.push('sqliteStore variants')
  if (sharedStore) {
    contenders.push({
      variant: 'sharedStore + defineView, recommended',
      rounds: repeats,
      sample: collector(
        'shared',
        (dir) => sharedStore({ path: path.join(dir, 'shared.db') }),
        () => recommendedView('passes'),
      ),
    })
  } else skipped.push('sharedStore variant')
  if (sqliteStore) {
    contenders.push({
      variant: 'sqliteStore + naive async Kysely (SqliteDialect, await per event)',
      rounds: slowRepeats,
      sample: collector(
        'naive',
        (dir) => sqliteStore({ dir }),
        () => naiveKyselyProjection('passes'),
      ),
    })
  }

  const samples = contenders.map(() => [] as number[])
  for (let round = 0; round < repeats; round++) {
    for (const [i, contender] of contenders.entries()) {
      if (round >= contender.rounds) continue
      ctx.log(`case ${CASE}: round ${round + 1}/${repeats}, ${contender.variant}`)
      samples[i]!.push(await contender.sample(round))
    }
  }
  const raw = summarize(samples[0]!)
  ctx.baselines.rawRebuildMedianMs = raw.median
  ctx.baselines.rawRebuildEventsPerSecond = (events / raw.median) * 1000
  const baseline = { medianMs: raw.median, of: 'raw' }
  for (const [i, contender] of contenders.entries()) {
    const summary = summarize(samples[i]!)
    if (contender.recommended)
      ctx.baselines.recommendedRebuildEventsPerSecond = (events / summary.median) * 1000
    ctx.add(
      rateRow(CASE, contender.variant, summary, events, i === 0 ? undefined : baseline, contender.target),
    )
  }
  for (const what of skipped)
    ctx.add({ case: CASE, variant: what, skipped: `not run: ${stores.missing.join('; ')}` })
}

import { sqliteStore } from '@eskit/sqlite-store'
import type { BenchContext } from '../context.ts'
import { measureCollectorRebuild, measureRaw, rateRow } from '../measure.ts'
import { recommendedView } from '../views.ts'

const CASE = '8 scaling'

/**
 * Case 8: rebuild time as the log grows, raw and the recommended style on sqliteStore at each
 * size; the note gives the best time per event relative to the smallest size (1.00 = linear).
 */
export async function scalingCase(ctx: BenchContext): Promise<void> {
  const repeats = ctx.config.scalingRepeats
  let firstRaw: number | undefined
  let firstEskit: number | undefined
  for (const events of ctx.config.scaling) {
    ctx.log(`case ${CASE}: ${events} events`)
    const expected = ctx.expected(events)
    const raw = await measureRaw(ctx, `scaling-raw-${events}`, events, expected, repeats)
    const logFile = await ctx.logs.eskit(events)
    const eskit = await measureCollectorRebuild(ctx, {
      label: `scaling-${events}`,
      logFile,
      head: events,
      expected,
      repeats,
      store: (dir) => sqliteStore({ dir }),
      projections: () => [recommendedView('passes')],
      check: [{ name: 'passes' }],
    })
    // Per-event cost from the best sample: a load spike on this shared machine inflates a median
    // of two far more than the log's length does.
    const perEventRaw = raw.min / events
    const perEventEskit = eskit.min / events
    firstRaw ??= perEventRaw
    firstEskit ??= perEventEskit
    const rawRow = rateRow(CASE, `raw, ${events / 1000}k events`, raw, events)
    rawRow.note = `best time/event ×${(perEventRaw / firstRaw).toFixed(2)} vs ${ctx.config.scaling[0]! / 1000}k`
    ctx.add(rawRow)
    const eskitRow = rateRow(CASE, `sqliteStore recommended, ${events / 1000}k events`, eskit, events, {
      medianMs: raw.median,
      of: 'raw',
    })
    eskitRow.note = `best time/event ×${(perEventEskit / firstEskit).toFixed(2)} vs ${ctx.config.scaling[0]! / 1000}k`
    ctx.add(eskitRow)
  }
}

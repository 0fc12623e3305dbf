import type { BenchContext } from '../context.ts'
import { measureRaw, rateRow } from '../measure.ts'

/**
 * Case 1's baseline: the raw better-sqlite3 rebuild of the reference workload. A case of its own
 * (needing no eskit package) so later cases have the reference rate even if an eskit one fails.
 */
export async function rawBaselineCase(ctx: BenchContext): Promise<void> {
  const { events, repeats } = ctx.config
  ctx.log(`case 1 rebuild: ${events} events, raw baseline`)
  const raw = await measureRaw(ctx, 'rebuild-raw', events, ctx.expected(events), repeats)
  ctx.baselines.rawRebuildMedianMs = raw.median
  ctx.baselines.rawRebuildEventsPerSecond = (events / raw.median) * 1000
  ctx.add(rateRow('1 rebuild', 'raw better-sqlite3 (baseline)', raw, events))
}

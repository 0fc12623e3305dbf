import path from 'node:path'
import { assertDigest } from '../checksum.ts'
import type { BenchContext } from '../context.ts'
import { copyDatabase, removeDatabase } from '../logs.ts'
import { measureCollectorRebuild, measureRaw, rateRow } from '../measure.ts'
import { emmettRebuild, emmettVersion, installEmmett, writeEmmettLog } from '../peers/emmett.ts'
import { repeat } from '../stats.ts'
import { recommendedView } from '../views.ts'

const CASE = '7 peer'

/**
 * Case 7: Emmett's SQLite event store and projection, the same view over the same events, against
 * raw and eskit on the same (smaller) workload in the same run. Emmett's rows are checked too.
 */
export async function peerCase(ctx: BenchContext): Promise<void> {
  const { peerEvents: events, peerStreams: streams, slowRepeats, repeats } = ctx.config
  const expected = ctx.expected(events, streams)
  const shape = `${events / 1000}k events / ${streams} streams`
  ctx.log(`case ${CASE}: ${shape}`)
  const raw = await measureRaw(ctx, 'peer-raw', events, expected, repeats, streams)
  ctx.add(rateRow(CASE, `raw better-sqlite3, ${shape}`, raw, events))
  const baseline = { medianMs: raw.median, of: 'raw' }
  const eskitVariant = `eskit sqliteStore recommended, ${shape}`
  // Loaded here, not imported above: Emmett is measured even while the store is not built yet.
  let sqliteStore: typeof import('@eskit/sqlite-store').sqliteStore | undefined
  let reason = '@eskit/sqlite-store has no sqliteStore yet'
  try {
    ;({ sqliteStore } = await import('@eskit/sqlite-store'))
  } catch (error) {
    reason = (error as Error).message
  }
  if (typeof sqliteStore === 'function') {
    const store = sqliteStore
    const eskit = await measureCollectorRebuild(ctx, {
      label: 'peer-eskit',
      logFile: await ctx.logs.eskit(events, streams),
      head: events,
      expected,
      repeats,
      store: (dir) => store({ dir }),
      projections: () => [recommendedView('passes')],
      check: [{ name: 'passes' }],
    })
    ctx.add(rateRow(CASE, eskitVariant, eskit, events, baseline))
  } else {
    ctx.add({ case: CASE, variant: eskitVariant, skipped: `not run: ${reason}` })
  }

  if (!ctx.peers) {
    ctx.add({
      case: CASE,
      variant: 'Emmett (emmett-sqlite)',
      skipped: 'run with --peers to install and measure it',
    })
    return
  }
  try {
    installEmmett(ctx.benchRoot, ctx.log)
  } catch (error) {
    // The peer not installing is a gap in the figures, not a failure of eskit.
    ctx.add({
      case: CASE,
      variant: 'Emmett (emmett-sqlite)',
      skipped: `not installed: ${(error as Error).message}`,
    })
    return
  }
  const version = emmettVersion(ctx.benchRoot)
  const logFile = path.join(ctx.tmp, 'emmett.db')
  removeDatabase(logFile)
  ctx.log(`case ${CASE}: the Emmett log (not timed; cached in full mode)`)
  let logRetries = 0
  try {
    const cached = await ctx.logs.other(`emmett-${version}-${streams}-${events}.db`, async (file) => {
      logRetries = (await writeEmmettLog(ctx.benchRoot, file, events, streams)).retries
    })
    // Each run works on a copy: Emmett keeps processor checkpoints and the view in the same file.
    copyDatabase(cached, logFile)
  } catch (error) {
    // The peer failing is a figure about the peer, not a failure of this run.
    ctx.add({
      case: CASE,
      variant: `Emmett ${version}`,
      skipped: `Emmett failed writing its log: ${(error as Error).message}`,
    })
    return
  }
  const settings = [
    { label: 'defaults', note: 'consumer defaults: batches of 100, 50 ms pull interval' },
    { label: 'best', batchSize: 1000, pullingFrequencyInMs: 0, note: 'batches of 1000, no pull delay' },
  ]
  let run = 0
  for (const setting of settings) {
    ctx.log(`case ${CASE}: Emmett ${setting.label}`)
    const variant = `Emmett ${version} sqliteRawSQLProjection, ${setting.label}, ${shape}`
    const errors: string[] = []
    const sample = async () => {
      const result = await emmettRebuild(ctx.benchRoot, logFile, events, setting, run++)
      assertDigest(`Emmett ${setting.label}`, result.digest, expected)
      return result.ms
    }
    const summary = await repeat(slowRepeats, async () => {
      // Emmett (on the sqlite3 package) has failed here under heavy load with SQLITE_BUSY
      // "cannot commit transaction - SQL statements in progress", inside its own processor:
      // one retry, and the failure is reported in the note.
      try {
        return await sample()
      } catch (error) {
        errors.push((error as Error).message)
        return sample()
      }
    }).catch((error: Error) => {
      errors.push(error.message)
      return undefined
    })
    if (!summary) {
      ctx.add({ case: CASE, variant, skipped: `Emmett failed twice: ${errors.join('; ')}` })
      continue
    }
    const row = rateRow(CASE, variant, summary, events, baseline)
    row.note = errors.length > 0 ? `${setting.note}; retried after: ${errors.join('; ')}` : setting.note
    if (logRetries > 0) row.note += `; ${logRetries} SQLITE_BUSY append retries while writing its log`
    ctx.add(row)
  }
}

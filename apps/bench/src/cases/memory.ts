import { execFile } from 'node:child_process'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { sqliteStore } from '@eskit/sqlite-store'
import { assertDigest, type ViewDigest } from '../checksum.ts'
import type { BenchContext } from '../context.ts'
import { freshDir } from '../measure.ts'

const CASE = '5 memory'
const mb = (bytes: number) => Math.round(bytes / 2 ** 20)
const CHILD = fileURLToPath(new URL('../memory-child.ts', import.meta.url))

/**
 * Case 5: RSS growth while rebuilding a large log, measured in a child process (sampled
 * `process.memoryUsage().rss` and the kernel's peak), from after opening the log to the peak.
 */
export async function memoryCase(ctx: BenchContext): Promise<void> {
  // The child runs sqliteStore: checked here so a store not built yet skips the case, not fails it.
  if (typeof sqliteStore !== 'function') throw new Error('@eskit/sqlite-store has no sqliteStore')
  const events = ctx.config.memoryEvents
  ctx.log(`case ${CASE}: preparing a ${events} event log`)
  const logFile = await ctx.logs.eskit(events)
  const expected = ctx.expected(events)
  const dir = freshDir(ctx, 'memory')
  ctx.log(`case ${CASE}: rebuilding ${events} events in a child process`)
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD, logFile, dir, String(events)], {
    maxBuffer: 1 << 20,
  })
  fs.rmSync(dir, { recursive: true, force: true })
  const result = JSON.parse(stdout.trim().split('\n').pop() as string) as {
    baselineRss: number
    peakRss: number
    baselineHeap: number
    peakHeap: number
    ms: number
    digest: ViewDigest
  }
  assertDigest('memory rebuild', result.digest, expected)
  const growthMb = (result.peakRss - result.baselineRss) / 2 ** 20
  ctx.add({
    case: CASE,
    variant: `sqliteStore recommended, rebuild ${events / 1000}k events: peak RSS growth`,
    median: growthMb,
    unit: 'MB',
    rate: (events / result.ms) * 1000,
    rateUnit: 'events/s',
    target: '< 150 MB',
    met: growthMb < 150,
    note: `RSS ${mb(result.baselineRss)} → ${mb(result.peakRss)} MB; JS heap ${mb(result.baselineHeap)} → ${mb(result.peakHeap)} MB`,
  })
}

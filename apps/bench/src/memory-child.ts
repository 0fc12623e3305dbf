/**
 * Child process of case 5: rebuilds the view over a large log and reports the RSS it started at,
 * the peak it reached and the result's digest as one JSON line on stdout. A process of its own so
 * the figure is not skewed by the parent's heap.
 *
 *   node src/memory-child.ts <log file> <projection dir> <head>
 */
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import { viewDigest } from './checksum.ts'
import { openCollector } from './collector-run.ts'
import { recommendedView } from './views.ts'

const [logFile, dir, headArg] = process.argv.slice(2)
if (!logFile || !dir || !headArg) throw new Error('usage: memory-child.ts <log file> <projection dir> <head>')
const head = Number(headArg)

const run = openCollector(logFile, sqliteStore({ dir }), [recommendedView('passes')])
const baseline = process.memoryUsage()
const baselineRss = baseline.rss
let peakRss = baselineRss
// The JS heap beside the RSS: tells retained objects from native memory (SQLite's caches).
let peakHeap = baseline.heapUsed
const sampler = setInterval(() => {
  const usage = process.memoryUsage()
  peakRss = Math.max(peakRss, usage.rss)
  peakHeap = Math.max(peakHeap, usage.heapUsed)
}, 5)
const started = performance.now()
await run.collector.start()
await run.caughtUp(head)
const ms = performance.now() - started
clearInterval(sampler)
// The kernel's high-water mark catches a peak between two samples.
peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024)
const digest = viewDigest(run.collector.reader<Database.Database>('passes'))
await run.close()
process.stdout.write(
  `${JSON.stringify({ baselineRss, peakRss, baselineHeap: baseline.heapUsed, peakHeap, ms, digest })}\n`,
)

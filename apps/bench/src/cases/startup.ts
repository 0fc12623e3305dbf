import { execFile } from 'node:child_process'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createReader } from '@eskit/kysely-views'
import { sqliteStore } from '@eskit/sqlite-store'
import { openCollector } from '../collector-run.ts'
import type { BenchContext } from '../context.ts'
import { freshDir } from '../measure.ts'
import { median, repeat, summarize } from '../stats.ts'
import { recommendedView } from '../views.ts'

const CASE = '3 start-up'
const CHILD = fileURLToPath(new URL('../startup-child.ts', import.meta.url))

/**
 * Case 3: a process restarting over current projection files. Timed from opening the log until
 * `start()` has resolved and a first query through a reader has answered; every projection must
 * already be at the head (no replay).
 */
export async function startupCase(ctx: BenchContext): Promise<void> {
  const { startupEvents: events, startupFiles, startupRepeats } = ctx.config
  const expectedRows = ctx.expected(events).rows
  const logFile = await ctx.logs.eskit(events)
  const names = Array.from({ length: startupFiles }, (_, i) => `passes_${i}`)
  const projections = () => names.map((name) => recommendedView(name))
  const dir = freshDir(ctx, 'startup')

  ctx.log(`case ${CASE}: building ${startupFiles} projection files (not timed)`)
  const build = openCollector(logFile, sqliteStore({ dir }), projections())
  await build.collector.start()
  await build.caughtUp(events)
  await build.close()

  ctx.log(`case ${CASE}: ${startupRepeats} start-ups`)
  const startOnly: number[] = []
  const summary = await repeat(startupRepeats, async () => {
    const views = projections()
    const started = performance.now()
    const run = openCollector(logFile, sqliteStore({ dir }), views)
    try {
      await run.collector.start()
      startOnly.push(performance.now() - started)
      const reader = createReader(run.collector, views[views.length - 1]!)
      const answer = await reader
        .selectFrom('passes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      const ms = performance.now() - started
      if (Number(answer.n) !== expectedRows)
        throw new Error(`start-up: first query answered ${answer.n} rows, expected ${expectedRows}`)
      const behind = run.collector.status().filter((s) => s.position !== events)
      if (behind.length > 0)
        throw new Error(`start-up: ${behind.map((s) => s.name).join(', ')} not current after start()`)
      return ms
    } finally {
      await run.close()
    }
  })
  ctx.add({
    case: CASE,
    variant: `${startupFiles} current files, in-process: start() + first query`,
    min: summary.min,
    median: summary.median,
    unit: 'ms',
    target: '< 200 ms',
    met: summary.median < 200,
    samples: summary.samples,
    note: `start() alone: median ${Math.round(startOnly.sort((a, b) => a - b)[startOnly.length >> 1]!)} ms; log ${events / 1000}k events`,
  })

  // The same from a new process: Node's start and module loading come on top of start().
  const cold: { imported: number; started: number; answered: number }[] = []
  for (let i = 0; i < startupRepeats; i++) {
    const { stdout } = await promisify(execFile)(process.execPath, [
      CHILD,
      logFile,
      dir,
      String(startupFiles),
      String(expectedRows),
    ])
    cold.push(JSON.parse(stdout.trim().split('\n').pop() as string))
  }
  const answered = summarize(cold.map((c) => c.answered))
  const mid = (values: number[]) => Math.round(median(values))
  ctx.add({
    case: CASE,
    variant: `${startupFiles} current files, new process: process start → first query`,
    min: answered.min,
    median: answered.median,
    unit: 'ms',
    samples: answered.samples,
    note: `median: modules loaded at ${mid(cold.map((c) => c.imported))} ms, start() resolved at ${mid(cold.map((c) => c.started))} ms`,
  })
  fs.rmSync(dir, { recursive: true, force: true })
}

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { BenchConfig } from './config.ts'
import { type BenchContext, expectedDigests } from './context.ts'
import { logCache, logCacheKey } from './logs.ts'
import { machineInfo, type ResultRow, type RunReport } from './report.ts'

/** One case: its number, title, and the module that runs it (loaded when it runs). */
interface CaseEntry {
  id: number
  title: string
  load: () => Promise<(ctx: BenchContext) => Promise<void>>
}

/**
 * The cases in run order. Loaded lazily: a case whose package has not been built yet is reported
 * as skipped with the reason instead of stopping the run.
 */
export const CASES: readonly CaseEntry[] = [
  { id: 1, title: '1 rebuild', load: async () => (await import('./cases/rebuild.ts')).rebuildCase },
  {
    id: 6,
    title: '6 event store',
    load: async () => (await import('./cases/event-store.ts')).eventStoreCase,
  },
  { id: 2, title: '2 one of ten', load: async () => (await import('./cases/one-of-ten.ts')).oneOfTenCase },
  { id: 3, title: '3 start-up', load: async () => (await import('./cases/startup.ts')).startupCase },
  { id: 4, title: '4 live', load: async () => (await import('./cases/live.ts')).liveCase },
  { id: 8, title: '8 scaling', load: async () => (await import('./cases/scaling.ts')).scalingCase },
  { id: 5, title: '5 memory', load: async () => (await import('./cases/memory.ts')).memoryCase },
  { id: 7, title: '7 peer', load: async () => (await import('./cases/peer.ts')).peerCase },
  { id: 9, title: '9 postgres', load: async () => (await import('./cases/postgres.ts')).postgresCase },
  { id: 10, title: '10 new node', load: async () => (await import('./cases/snapshot.ts')).newNodeCase },
  {
    id: 11,
    title: '11 parallel builds',
    load: async () => (await import('./cases/parallel-builds.ts')).parallelBuildsCase,
  },
  {
    id: 12,
    title: '12 yoyopass first build',
    load: async () => (await import('./cases/yoyopass-builds.ts')).yoyopassBuildsCase,
  },
]

/** The cache folder for the current key; folders of other keys (stale logs) are removed. */
function persistentLogDir(cacheDir: string, log: (line: string) => void): string {
  const root = path.join(cacheDir, 'logs')
  const key = logCacheKey()
  if (fs.existsSync(root)) {
    for (const name of fs.readdirSync(root)) {
      if (name !== key) fs.rmSync(path.join(root, name), { recursive: true, force: true })
    }
  }
  const dir = path.join(root, key)
  log(`event logs cached in ${dir}${fs.existsSync(dir) ? ' (reused)' : ''}`)
  return dir
}

/** Options of {@link runBench}. */
export interface RunOptions {
  config: BenchConfig
  /** `apps/bench`: where `.peers/` lives. */
  benchRoot: string
  /** Install and run the peer (Emmett). */
  peers: boolean
  /**
   * Keep the event logs here between runs (under a key of the event store's code and the
   * workload, see `logCacheKey`); default: build them in the run's temp dir.
   */
  cacheDir?: string
  /** Only these case numbers (default: all). */
  only?: readonly number[]
  log?: (line: string) => void
}

/** What a run returns: the report, and the cases that failed (a wrong result or an error). */
export interface RunOutcome {
  report: RunReport
  failures: { case: string; error: Error }[]
}

/**
 * Runs the cases and returns their rows. Every case checks its result against the expected view
 * before its time counts; a case that fails is reported as failed and the run goes on.
 *
 * @example
 * ```ts
 * const { report, failures } = await runBench({ config: QUICK, benchRoot, peers: false })
 * ```
 */
export async function runBench(options: RunOptions): Promise<RunOutcome> {
  const { config } = options
  const log = options.log ?? (() => {})
  const startedAt = new Date()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-bench-'))
  const rows: ResultRow[] = []
  const failures: RunOutcome['failures'] = []
  const ctx: BenchContext = {
    config,
    tmp,
    benchRoot: options.benchRoot,
    logs: logCache(
      options.cacheDir ? persistentLogDir(options.cacheDir, log) : path.join(tmp, 'logs'),
      config.streams,
    ),
    peers: options.peers,
    log,
    add: (row) => rows.push(row),
    expected: expectedDigests(config.streams),
    baselines: {},
  }
  try {
    for (const entry of CASES) {
      if (options.only && !options.only.includes(entry.id)) continue
      let run: (ctx: BenchContext) => Promise<void>
      try {
        run = await entry.load()
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
        log(`case ${entry.title}: not run, ${reason}`)
        rows.push({ case: entry.title, variant: '(all)', skipped: `not run: ${reason}` })
        continue
      }
      const caseStarted = performance.now()
      try {
        await run(ctx)
        log(`case ${entry.title}: done in ${((performance.now() - caseStarted) / 1000).toFixed(1)} s`)
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error))
        log(`case ${entry.title}: FAILED ${err.stack ?? err.message}`)
        failures.push({ case: entry.title, error: err })
        rows.push({
          case: entry.title,
          variant: '(failed)',
          skipped: `FAILED: ${err.message.split('\n')[0]}`,
        })
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return {
    report: {
      mode: config.mode,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      machine: machineInfo(),
      workload: {
        events: config.events,
        streams: config.streams,
        memoryEvents: config.memoryEvents,
        liveAppends: config.liveAppends,
        peerEvents: config.peerEvents,
      },
      rows,
    },
    failures,
  }
}

import { describe, expect, it } from 'vitest'
import { recordResults } from '../src/results.ts'
import { runWorkerCrashTrials, workerTrialHeld } from '../src/worker-crash-harness.ts'
import { workerCrashRow } from '../src/worker-crash-row.ts'

// CI runs a few kills; `pnpm soak` runs more. ESKIT_WORKER_CRASH_SEED replays a run.
const seed = Number(process.env.ESKIT_WORKER_CRASH_SEED ?? 20261201)
const trials = Number(process.env.ESKIT_WORKER_CRASH_TRIALS ?? 4)

describe('crash harness: SIGKILL while builds run in worker threads', () => {
  it(`survives ${trials} kills inside worker builds: old files serve, builds discarded (seed ${seed})`, {
    timeout: 120_000,
  }, async () => {
    const results = await runWorkerCrashTrials({ seed, trials })
    for (const r of results.filter((r) => !workerTrialHeld(r)))
      process.stderr.write(`worker crash trial ${r.trial} failed (seed ${seed}): ${JSON.stringify(r)}\n`)
    recordResults('worker-crash', [workerCrashRow(results, seed, '')], { seed, trials: results })
    const inside = results.filter((r) => r.interrupted !== null)
    expect(inside).toHaveLength(trials)
    for (const r of inside) {
      // the kill landed inside a build a worker thread was running: its file was left unswapped,
      // the old file kept serving, and the restart built the new version again in a worker
      expect(r.interruptedFileLeft).toBe(true)
      expect(r.staleBuilds).toBeGreaterThan(0)
      if (!r.firstBuild) expect(r.oldServing).toBeGreaterThan(0)
      // a rolled-back restart rebuilds only the files swapped in before the kill
      if (!r.rolledBack) expect(r.restartLent).toBeGreaterThan(0)
    }
    for (const r of results) {
      expect(r.oldProblems).toEqual([])
      expect(r.lostEvents).toBe(0)
      expect(r.buildsTouchedAfterKill).toBe(0)
      expect(r.staleBuildsKept).toBe(0)
      expect(r.buildsAfterRebuild).toBe(0)
      expect(r.divergent).toEqual([])
    }
    expect(results.reduce((n, r) => n + r.acknowledged, 0)).toBeGreaterThan(trials)
    // several builds per trial went to workers, not only the one the kill interrupted
    expect(results.reduce((n, r) => n + r.lent, 0)).toBeGreaterThan(inside.length)
  })
})

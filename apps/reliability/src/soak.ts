// `pnpm soak [trials] [seed]`: hundreds of kills at random instants, then ESKIT_WORKER_KILLS (default
// 50) kills inside builds running in worker threads, then the cluster soak. ESKIT_SOAK picks parts
// (default `crash,workers,cluster`). Prints the seed first so a failure can be replayed with
// ESKIT_CRASH_SEED=<seed> ESKIT_CRASH_TRIALS=<n> (or ESKIT_WORKER_CRASH_SEED / _TRIALS)
// pnpm --filter @eskit/reliability test.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { runCrashTrials } from './crash-harness.ts'
import { recordResults } from './results.ts'
import { runWorkerCrashTrials, workerTrialHeld } from './worker-crash-harness.ts'
import { workerCrashRow } from './worker-crash-row.ts'

const trials = Number(process.argv[2] ?? 300)
const seed = Number(process.argv[3] ?? Math.floor(Math.random() * 2 ** 31))
const parts = new Set((process.env.ESKIT_SOAK ?? 'crash,workers,cluster').split(','))
let failures = 0

if (parts.has('crash')) {
  console.log(`soak: ${trials} kills, seed ${seed}`)
  let failed = 0
  const results = await runCrashTrials({
    seed,
    trials,
    onTrial(r) {
      const bad = r.lostEvents > 0 || r.divergent.length > 0
      if (bad) failed++
      console.log(
        `${bad ? 'FAIL' : 'ok  '} #${r.trial} seed=${r.seed} kill@${r.killAfterMs}ms acked=${r.acknowledged} lent=${r.lent} head=${r.head} lost=${r.lostEvents} divergent=${r.divergent.join(',') || '-'} ${r.durationMs}ms`,
      )
    },
  })
  console.log(`${results.length} kills, ${failed} failed (seed ${seed})`)
  failures += failed
  const lost = results.reduce((n, r) => n + r.lostEvents, 0)
  recordResults('soak', [
    {
      area: 'crash',
      case: `soak: ${results.length} SIGKILLs in one run (pnpm soak)`,
      tried: results.length,
      held: results.length - failed,
      detail: `seed ${seed}; events lost: ${lost}; divergent projections: ${results.reduce((n, r) => n + r.divergent.length, 0)}; acknowledged appends checked: ${results.reduce((n, r) => n + r.acknowledged, 0)}; kills after builds were lent to worker threads: ${results.filter((r) => r.lent > 0).length}`,
    },
  ])
}

if (parts.has('workers')) {
  const kills = Number(process.env.ESKIT_WORKER_KILLS ?? 50)
  console.log(`worker soak: ${kills} kills inside builds running in worker threads, seed ${seed}`)
  const results = await runWorkerCrashTrials({
    seed,
    trials: kills,
    onTrial(r) {
      const held = workerTrialHeld(r)
      if (!held) failures++
      const build = r.interrupted
      console.log(
        `${held ? 'ok  ' : 'FAIL'} #${r.trial} seed=${r.seed} workers=${r.buildWorkers} ${build ? `killed ${build.name} at ${build.position}/${build.target} in a worker` : 'no worker build interrupted'} acked=${r.acknowledged} lost=${r.lostEvents} old=${r.oldServing} problems=${r.oldProblems.join(',') || '-'} builds left=${r.staleBuilds} kept=${r.staleBuildsKept} divergent=${r.divergent.join(',') || '-'} ${r.durationMs}ms`,
      )
    },
  })
  recordResults('worker-soak', [workerCrashRow(results, seed, 'soak: ')])
}

let clusterFailed = false
if (parts.has('cluster')) {
  // Three nodes on one PostgreSQL log (vitest starts the server for it).
  const clusterKills = process.env.ESKIT_CLUSTER_KILLS ?? '100'
  console.log(`cluster soak: ${clusterKills} kills of node processes on one PostgreSQL log`)
  const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')
  const cluster = spawnSync(process.execPath, [vitest, 'run', 'test/cluster-crash.test.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: 'inherit',
    env: { ...process.env, ESKIT_CLUSTER_KILLS: clusterKills },
  })
  clusterFailed = cluster.status !== 0
}
process.exit(failures > 0 || clusterFailed ? 1 : 0)

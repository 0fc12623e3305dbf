import type { InterruptedBuild } from './killed-files.ts'
import type { ReliabilityRow } from './results.ts'
import { BUILD_WORKER_CHOICES, type WorkerTrialResult, workerTrialHeld } from './worker-crash-harness.ts'

/** The row of docs/reliability.md for a run of {@link runWorkerCrashTrials}. */
export function workerCrashRow(results: WorkerTrialResult[], seed: number, label: string): ReliabilityRow {
  const sum = (pick: (r: WorkerTrialResult) => number) => results.reduce((n, r) => n + pick(r), 0)
  const interrupted = results.filter((r) => r.interrupted !== null && r.interruptedFileLeft)
  const fractions = interrupted.map((r) => {
    const build = r.interrupted as InterruptedBuild
    return Math.round(((build.position - build.from) / (build.target - build.from)) * 100)
  })
  const range = fractions.length > 0 ? `${Math.min(...fractions)}–${Math.max(...fractions)} %` : 'none'
  return {
    area: 'crash',
    case: `${label}SIGKILL while builds run in worker threads (a new version of all four projections building beside the old files, ${BUILD_WORKER_CHOICES.join(' or ')} build workers, appends going on), restart, compare`,
    tried: results.length,
    held: results.filter(workerTrialHeld).length,
    detail: [
      `seed ${seed}`,
      `kills inside a worker build: ${interrupted.length} of ${results.length} (the worker had committed ${range} of its share; that build's file left unswapped; a kill that missed them came once all four were swapped in)`,
      `trials starting with no files (first builds): ${results.filter((r) => r.firstBuild).length}`,
      `builds lent to workers: ${sum((r) => r.lent)}`,
      `rebuilds requested meanwhile: ${sum((r) => r.rebuildRequests)}`,
      `old files serving after the kill: ${sum((r) => r.oldServing)} of ${sum((r) => (r.firstBuild ? 0 : 4))} (old version, checkpoint not moved back, equal to a fresh build up to it; the rest had swapped in before the kill)`,
      `problems with them: ${sum((r) => r.oldProblems.length)}`,
      `restarts resuming the new version: ${results.filter((r) => !r.rolledBack).length}, rolling back to the old one: ${results.filter((r) => r.rolledBack).length}`,
      `builds lent to workers by the restarts: ${sum((r) => r.restartLent)}`,
      `build files left by the kills: ${sum((r) => r.staleBuilds)}, written to after the kill: ${sum((r) => r.buildsTouchedAfterKill)}, still there once the restart's start() resolved: ${sum((r) => r.staleBuildsKept)}, after its rebuilds: ${sum((r) => r.buildsAfterRebuild)}`,
      `events lost: ${sum((r) => r.lostEvents)}`,
      `divergent projections: ${sum((r) => r.divergent.length)} (the restarted directory vs a single-threaded fresh build)`,
      `acknowledged appends checked: ${sum((r) => r.acknowledged)}`,
    ].join('; '),
  }
}

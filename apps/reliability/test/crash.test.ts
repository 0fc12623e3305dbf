import { describe, expect, it } from 'vitest'
import { runCrashTrials, type TrialResult } from '../src/crash-harness.ts'
import { recordResults } from '../src/results.ts'

// CI runs ≥ 30 kills; `pnpm soak` runs hundreds. ESKIT_CRASH_SEED replays a failing run.
const seed = Number(process.env.ESKIT_CRASH_SEED ?? 20261124)
const trials = Number(process.env.ESKIT_CRASH_TRIALS ?? 30)

describe('crash harness (SIGKILL at seeded random instants)', () => {
  it(`survives ${trials} kills with nothing lost and no divergent projection (seed ${seed})`, {
    timeout: 300_000,
  }, async () => {
    const results = await runCrashTrials({ seed, trials })
    const failed = results.filter((r) => r.lostEvents > 0 || r.divergent.length > 0)
    for (const r of failed) {
      process.stderr.write(
        `crash trial ${r.trial} failed: replay with ESKIT_CRASH_SEED=${seed} (trial seed ${r.seed})\n`,
      )
    }
    recordCrash(results)
    expect(results).toHaveLength(trials)
    expect(results.reduce((n, r) => n + r.acknowledged, 0)).toBeGreaterThan(trials * 5)
    // some kills came after builds had gone to worker threads
    expect(results.some((r) => r.lent > 0)).toBe(true)
    expect(failed).toEqual([])
  })
})

function recordCrash(results: TrialResult[]) {
  const lost = results.reduce((n, r) => n + r.lostEvents, 0)
  const divergent = results.reduce((n, r) => n + r.divergent.length, 0)
  const phases = new Map<string, number>()
  for (const r of results) phases.set(r.phase, (phases.get(r.phase) ?? 0) + 1)
  const byPhase = [...phases].map(([phase, n]) => `${n} ${phase}`).join(', ')
  recordResults(
    'crash',
    [
      {
        area: 'crash',
        case: 'SIGKILL of a collector process at a random instant, restart, compare with a fresh rebuild',
        tried: results.length,
        held: results.filter((r) => r.lostEvents === 0 && r.divergent.length === 0).length,
        detail: `seed ${seed}; kills landed while: ${byPhase}; events lost: ${lost}; divergent projections: ${divergent}; acknowledged appends checked: ${results.reduce((n, r) => n + r.acknowledged, 0)}; final log ${Math.max(...results.map((r) => r.head))} events; kills after builds were lent to worker threads: ${results.filter((r) => r.lent > 0).length}`,
      },
    ],
    { seed, trials: results },
  )
}

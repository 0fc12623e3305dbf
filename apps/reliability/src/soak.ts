// `pnpm soak [trials] [seed]`: hundreds of kills. Prints the seed first so a failure can be replayed
// with ESKIT_CRASH_SEED=<seed> ESKIT_CRASH_TRIALS=<n> pnpm --filter @eskit/reliability test.
import { runCrashTrials } from './crash-harness.ts'

const trials = Number(process.argv[2] ?? 300)
const seed = Number(process.argv[3] ?? Math.floor(Math.random() * 2 ** 31))
console.log(`soak: ${trials} kills, seed ${seed}`)
let failures = 0
const results = await runCrashTrials({
  seed,
  trials,
  onTrial(r) {
    const bad = r.lostEvents > 0 || r.divergent.length > 0
    if (bad) failures++
    console.log(
      `${bad ? 'FAIL' : 'ok  '} #${r.trial} seed=${r.seed} kill@${r.killAfterMs}ms acked=${r.acknowledged} head=${r.head} lost=${r.lostEvents} divergent=${r.divergent.join(',') || '-'} ${r.durationMs}ms`,
    )
  },
})
console.log(`${results.length} kills, ${failures} failed (seed ${seed})`)
process.exit(failures > 0 ? 1 : 0)

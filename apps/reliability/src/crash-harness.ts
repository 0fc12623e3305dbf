import { type ChildProcess, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventStore } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { buildAndDump, sleep } from './build-dumps.ts'
import { workloadProjections } from './projections.ts'
import { createRandom } from './random.ts'
import { loadableWorkload } from './worker-projections.ts'

const CHILD = new URL('./crash-child.ts', import.meta.url).pathname

/** One kill and its check. */
export interface TrialResult {
  trial: number
  seed: number
  killAfterMs: number
  /** Whether the child had finished `start()` when it was killed. */
  started: boolean
  /** What the projections were doing when the kill landed (last report of the child, ≤ 15 ms old). */
  phase: string
  acknowledged: number
  /** Builds the child lent to worker threads before the kill. */
  lent: number
  head: number
  /** Acknowledged appends missing from the log after the kill (must be 0). */
  lostEvents: number
  /** Projections whose content differs from a from-scratch rebuild (must be 0). */
  divergent: string[]
  durationMs: number
}

export interface CrashRunOptions {
  seed: number
  trials: number
  /** A new data directory every this many trials (the log stays small enough to re-check). */
  freshEvery?: number
  onTrial?: (result: TrialResult) => void
}

/**
 * SIGKILLs a collector process at seeded random instants — during start-up and catch-up, live,
 * builds beside, swaps, appends — and after every kill restarts, catches up and compares every
 * projection with a from-scratch rebuild over the same log. The seed replays a run.
 */
export async function runCrashTrials(options: CrashRunOptions): Promise<TrialResult[]> {
  const random = createRandom(options.seed)
  const freshEvery = options.freshEvery ?? 10
  const results: TrialResult[] = []
  let dir = ''
  try {
    for (let trial = 0; trial < options.trials; trial++) {
      if (trial % freshEvery === 0) {
        if (dir) rmSync(dir, { recursive: true, force: true })
        dir = mkdtempSync(join(tmpdir(), 'eskit-crash-'))
      }
      const started = Date.now()
      const seed = random.int(1, 2 ** 31 - 1)
      const mirrorVersion = String(random.int(1, 3))
      // Early kills count from the moment the child starts its collector (start-up, catch-up,
      // builds); late ones from the spawn (mostly live, appending, rebuilding on request).
      const early = random.next() < 0.5
      const killAfterMs = early ? random.int(0, 300) : random.int(100, 1200)
      const run = await runAndKill(dir, seed, mirrorVersion, killAfterMs, early)
      const check = await verify(dir, mirrorVersion, run.acknowledged)
      const result: TrialResult = {
        trial,
        seed,
        killAfterMs,
        started: run.started,
        phase: run.phase,
        acknowledged: run.acknowledged.length,
        lent: run.lent,
        head: check.head,
        lostEvents: check.lostEvents,
        divergent: check.divergent,
        durationMs: Date.now() - started,
      }
      results.push(result)
      options.onTrial?.(result)
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
  return results
}

async function runAndKill(
  dir: string,
  seed: number,
  mirrorVersion: string,
  killAfterMs: number,
  early: boolean,
) {
  const child = spawn(process.execPath, [CHILD, dir, String(seed), mirrorVersion], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const acknowledged: number[] = []
  let lent = 0
  let started = false
  let phase = 'booting'
  let markStarting: () => void = () => {}
  const starting = new Promise<void>((resolve) => {
    markStarting = resolve
  })
  let stderr = ''
  let buffered = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) {
      if (line === 'started') started = true
      else if (line.startsWith('phase ')) {
        phase = line.slice(6)
        if (phase === 'starting') markStarting()
      } else if (line.startsWith('ack ')) acknowledged.push(Number(line.slice(4)))
      else if (line.startsWith('lent ')) lent++
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  if (early) await Promise.race([starting, exited, sleep(15_000)])
  const outcome = await Promise.race([exited, sleep(killAfterMs).then(() => 'kill' as const)])
  if (outcome !== 'kill') throw new Error(`crash child exited on its own (code ${outcome}): ${stderr}`)
  await kill(child, exited)
  // Lines written before the kill may still sit in the pipe.
  await sleep(20)
  for (const line of buffered.split('\n'))
    if (line.startsWith('ack ')) acknowledged.push(Number(line.slice(4)))
  return { acknowledged, started, phase, lent }
}

async function kill(child: ChildProcess, exited: Promise<unknown>) {
  child.kill('SIGKILL')
  await exited
}

async function verify(dir: string, mirrorVersion: string, acknowledged: number[]) {
  const events = openSqliteEventStore({ path: join(dir, 'events.db') })
  try {
    const head = await events.head()
    const lostEvents = await countLost(events, acknowledged)
    // Recover a byte copy of the killed directory, so the original stays as the kill left it and
    // the next child starts behind the log: later kills then land during catch-up too.
    const freshDir = mkdtempSync(join(tmpdir(), 'eskit-fresh-'))
    const recoveredDir = `${freshDir}-recovered`
    try {
      if (existsSync(join(dir, 'projections')))
        cpSync(join(dir, 'projections'), recoveredDir, { recursive: true })
      // the restart may lend its builds to workers; the reference is built on the main thread
      const restarted = await buildAndDump(events, recoveredDir, loadableWorkload(mirrorVersion), head, {
        buildWorkers: 2,
        timeoutMs: 60_000,
      })
      const fresh = await buildAndDump(events, freshDir, workloadProjections(mirrorVersion), head, {
        buildWorkers: 0,
        timeoutMs: 60_000,
      })
      const divergent = [...fresh.keys()].filter((name) => fresh.get(name) !== restarted.get(name))
      return { head, lostEvents, divergent }
    } finally {
      rmSync(freshDir, { recursive: true, force: true })
      rmSync(recoveredDir, { recursive: true, force: true })
    }
  } finally {
    await events.close()
  }
}

/** How many of the acknowledged positions are missing from the log. */
export async function countLost(events: EventStore, acknowledged: number[]): Promise<number> {
  const present = new Set<number>()
  let after = 0
  for (;;) {
    const batch = await events.readAll({ after, limit: 5000 })
    if (batch.length === 0) break
    for (const event of batch) present.add(event.position)
    after = batch[batch.length - 1]?.position ?? after
  }
  return acknowledged.filter((position) => !present.has(position)).length
}

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EventStore, type Logger, silentLogger } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { dumpsOf, sleep } from './build-dumps.ts'
import { countLost } from './crash-harness.ts'
import { BUILD_BATCH_SIZE, freshDumps, openCollector, untilRebuilt } from './fresh-build.ts'
import { checkOldFiles, type Files, filesOf, type InterruptedBuild, listBuilds } from './killed-files.ts'
import { createRandom } from './random.ts'
import { type Generation, generationProjections } from './worker-projections.ts'

const CHILD = new URL('./worker-crash-child.ts', import.meta.url).pathname
const PROJECTION_COUNT = generationProjections('a').length
/** Every this many trials the projection files are deleted first: the child makes first builds. */
const FIRST_BUILD_EVERY = 5
/** Share of the restarts that roll the deploy back: the old files then catch up from their checkpoint. */
const ROLL_BACK_SHARE = 0.25
/**
 * Build worker threads of the child and of the restart, one of these per trial: with 1 (or 2) one
 * worker takes two of the four builds at one checkpoint, with 3 three workers take one each; the
 * main thread keeps the rest.
 */
export const BUILD_WORKER_CHOICES = [1, 3] as const

/** One kill during parallel builds and its checks. */
export interface WorkerTrialResult {
  trial: number
  seed: number
  /** The generation the killed child was building (its versions end with it). */
  generation: Generation
  /** The projections started from nothing (no files): the child made first builds. */
  firstBuild: boolean
  /** The restart ran the old generation (a rolled-back deploy) instead of resuming the new one. */
  rolledBack: boolean
  /** `buildWorkers` of the child and of the restart. */
  buildWorkers: number
  /** Rebuilds the child asked for (`collector.rebuild`, recalling a lent build) before the kill. */
  rebuildRequests: number
  /** Builds the child lent to worker threads before the kill. */
  lent: number
  /** The worker build in progress when the kill was sent (null: the kill missed every worker build). */
  interrupted: InterruptedBuild | null
  acknowledged: number
  head: number
  /** Acknowledged appends missing from the log after the kill (must be 0). */
  lostEvents: number
  /** Old files found serving after the kill: their old version, checkpoint not moved back, data checked. */
  oldServing: number
  /** What was wrong with the files after the kill (must be empty). */
  oldProblems: string[]
  /** Build files the kill left under `.eskit/builds/` (with their SQLite companions). */
  staleBuilds: number
  /** Whether the interrupted build's file was among them (it was not swapped in). */
  interruptedFileLeft: boolean
  /** Of those, changed between the kill and the restart: written by something that outlived it (must be 0). */
  buildsTouchedAfterKill: number
  /** Of those, still there once the restarted collector's `start()` resolved (must be 0). */
  staleBuildsKept: number
  /** Builds the restarted collector lent to worker threads. */
  restartLent: number
  /** Build files left once the restart's rebuilds were swapped in (must be 0). */
  buildsAfterRebuild: number
  /** Projections whose rebuilt data differs from a single-threaded fresh build (must be empty). */
  divergent: string[]
  durationMs: number
}

export interface WorkerCrashOptions {
  seed: number
  /** Kills inside a worker build to make. */
  trials: number
  /** At most this many kills in all (a kill can miss the worker builds). Default 3 × `trials`. */
  maxKills?: number
  /** Events in the log before the first kill: the size of each build. Default 12,000. */
  seedEvents?: number
  onTrial?: (result: WorkerTrialResult) => void
}

/** Whether a trial held: nothing lost, old files served, leftovers discarded, rebuild equal. */
export function workerTrialHeld(r: WorkerTrialResult): boolean {
  return (
    r.lostEvents === 0 &&
    r.oldProblems.length === 0 &&
    r.staleBuildsKept === 0 &&
    r.buildsTouchedAfterKill === 0 &&
    r.buildsAfterRebuild === 0 &&
    r.divergent.length === 0
  )
}

/**
 * SIGKILLs a collector process while its builds run in worker threads. Each trial starts a child
 * on the other generation of the projections (every version bumped), so all four rebuild beside
 * their files while the child appends; the kill lands when a worker build has reached a seeded
 * random fraction of its share. After each kill: every acknowledged append is in the log; every
 * live file opens with its old version (or the new one if its swap came first), its checkpoint
 * not moved back, and data equal to a fresh build of that version up to that checkpoint; the
 * restarted collector has discarded the leftover builds when `start()` resolves, and its rebuilds
 * (in workers again) end equal to a single-threaded fresh build. A quarter of the restarts roll
 * the deploy back to the old generation instead; every fifth trial starts with no files (first
 * builds). The seed replays a run.
 */
export async function runWorkerCrashTrials(options: WorkerCrashOptions): Promise<WorkerTrialResult[]> {
  const random = createRandom(options.seed)
  const dir = mkdtempSync(join(tmpdir(), 'eskit-worker-crash-'))
  const projectionsDir = join(dir, 'projections')
  const results: WorkerTrialResult[] = []
  try {
    let live: Generation = 'a'
    await withLog(dir, (events) =>
      appendRandom(events, createRandom(options.seed + 1), options.seedEvents ?? 12_000),
    )
    // A kill that missed every worker build (the builds were all swapped in first) is checked as
    // well, and another trial follows, until `trials` kills landed inside a worker build.
    const maxKills = options.maxKills ?? options.trials * 3
    let inside = 0
    for (let trial = 0; inside < options.trials && trial < maxKills; trial++) {
      const started = Date.now()
      const seed = random.int(1, 2 ** 31 - 1)
      const generation: Generation = live === 'a' ? 'b' : 'a'
      // Every few trials the projections start from nothing (a new node): first builds are lent too.
      const firstBuild = trial % FIRST_BUILD_EVERY === 0
      if (firstBuild) {
        rmSync(projectionsDir, { recursive: true, force: true })
        mkdirSync(projectionsDir)
      }
      const before = filesOf(projectionsDir)
      const buildWorkers = BUILD_WORKER_CHOICES[random.int(0, BUILD_WORKER_CHOICES.length - 1)] ?? 1
      const run = await runAndKill(dir, seed, generation, buildWorkers, 0.05 + random.next() * 0.65)
      // Mostly the deploy goes on after the crash; sometimes it is rolled back to the old version.
      const rollBack = random.next() < ROLL_BACK_SHARE && !firstBuild
      const restartWith: Generation = rollBack ? live : generation
      const check = await verify(dir, generation, restartWith, buildWorkers, before, run)
      live = restartWith
      const result: WorkerTrialResult = {
        trial,
        seed,
        generation,
        firstBuild,
        rolledBack: restartWith !== generation,
        buildWorkers,
        lent: run.lent,
        rebuildRequests: run.requested,
        interrupted: run.interrupted,
        acknowledged: run.acknowledged.length,
        ...check,
        durationMs: Date.now() - started,
      }
      if (result.interrupted) inside++
      results.push(result)
      options.onTrial?.(result)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}

async function withLog<T>(dir: string, use: (events: EventStore) => Promise<T>): Promise<T> {
  const events = openSqliteEventStore({ path: join(dir, 'events.db') })
  try {
    return await use(events)
  } finally {
    await events.close()
  }
}

async function appendRandom(events: EventStore, random: ReturnType<typeof createRandom>, count: number) {
  const types = ['Opened', 'Deposited', 'Withdrawn', 'Noted'] as const
  for (let done = 0; done < count; done += 100) {
    const batch = Array.from({ length: Math.min(100, count - done) }, () => ({
      type: types[random.int(0, types.length - 1)] ?? 'Noted',
      data: { amount: random.int(1, 100), note: 'x'.repeat(random.int(0, 40)) },
    }))
    await events.append(`account-${random.int(1, 50)}`, batch)
  }
}

interface KilledRun {
  acknowledged: number[]
  /** Size and modification time of each file under `.eskit/builds/` once the child had exited. */
  buildsAtKill: Map<string, string>
  /** Rebuilds the child asked for while it ran. */
  requested: number
  lent: number
  interrupted: InterruptedBuild | null
}

async function runAndKill(
  dir: string,
  seed: number,
  generation: Generation,
  buildWorkers: number,
  fraction: number,
): Promise<KilledRun> {
  const child = spawn(
    process.execPath,
    [CHILD, dir, String(seed), generation, String(buildWorkers), String(BUILD_BATCH_SIZE)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const acknowledged: number[] = []
  const leases = new Map<string, { from: number; target: number; position: number }>()
  let lent = 0
  /** What the child said about its builds, for the error when no kill was due. */
  const transcript: string[] = []
  let interrupted: InterruptedBuild | null = null
  const rebuilt = new Set<string>()
  let requested = 0
  let stderr = ''
  let buffered = ''
  let markDue: () => void = () => {}
  const due = new Promise<void>((resolve) => {
    markDue = resolve
  })
  const read = (line: string) => {
    const [kind, name = '', a = '', b = ''] = line.split(' ')
    if (kind !== 'ack') transcript.push(line)
    if (kind === 'ack') acknowledged.push(Number(name))
    else if (kind === 'lent') {
      lent++
      leases.set(name, { from: Number(a), target: Number(b), position: Number(a) })
    } else if (kind === 'returned') leases.delete(name)
    else if (kind === 'rebuild') {
      leases.delete(name)
      rebuilt.delete(name)
      requested++
    } else if (kind === 'rebuilt') {
      leases.delete(name)
      rebuilt.add(name)
      // every build swapped in before a kill was due: kill now, live (a miss, checked all the same)
      if (rebuilt.size === PROJECTION_COUNT) markDue()
    } else if (kind === 'worker') {
      const lease = leases.get(name)
      if (!lease) return
      lease.position = Number(a)
      // the kill is sent on this line: the worker had committed part of its share, not all of it
      const share = lease.target - lease.from
      if (
        interrupted === null &&
        lease.position > lease.from &&
        lease.position < lease.target &&
        (lease.position - lease.from) / share >= fraction
      ) {
        interrupted = { name, ...lease }
        markDue()
      }
    }
  }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) read(line)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  // A child that ends, or never rebuilds, within the time is a failure of the scenario.
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    due.then(() => 'kill' as const),
    exited,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 30_000)
    }),
  ])
  clearTimeout(timer)
  await kill(child, exited)
  if (outcome !== 'kill') {
    throw new Error(
      `the child neither built in a worker nor finished its builds (${outcome}, ${lent} lent, fraction ${fraction.toFixed(2)}): ${stderr}\n${transcript.slice(-60).join('\n')}`,
    )
  }
  // Lines written before the kill may still sit in the pipe.
  await sleep(20)
  for (const line of buffered.split('\n')) if (line.startsWith('ack ')) read(line)
  return { acknowledged, lent, interrupted, requested, buildsAtKill: buildFingerprints(dir) }
}

function buildFingerprints(dir: string): Map<string, string> {
  const builds = join(dir, 'projections', '.eskit', 'builds')
  return new Map(
    listBuilds(join(dir, 'projections')).map((file) => {
      const stat = statSync(join(builds, file))
      return [file, `${stat.size}@${stat.mtimeMs}`]
    }),
  )
}

async function kill(child: ChildProcess, exited: Promise<unknown>) {
  child.kill('SIGKILL')
  await exited
}

async function verify(
  dir: string,
  generation: Generation,
  restartWith: Generation,
  buildWorkers: number,
  before: Files,
  run: KilledRun,
) {
  const projectionsDir = join(dir, 'projections')
  return withLog(dir, async (events) => {
    const head = await events.head()
    const lostEvents = await countLost(events, run.acknowledged)
    const after = filesOf(projectionsDir)
    const leftovers = listBuilds(projectionsDir)
    const old = await checkOldFiles(events, projectionsDir, generation, before, after, run.interrupted)
    // Restart where the kill left the directory, with build workers again.
    const projections = generationProjections(restartWith)
    let restartLent = 0
    const counting: Logger = {
      ...silentLogger,
      debug(message) {
        if (message === 'projection build lent to a worker') restartLent++
      },
    }
    // Nothing of the killed process (no worker thread) wrote to its builds after it died.
    const now = buildFingerprints(dir)
    const buildsTouchedAfterKill = [...run.buildsAtKill].filter(
      ([file, print]) => now.get(file) !== print,
    ).length
    const collector = await openCollector(events, projectionsDir, restartWith, buildWorkers, counting)
    let restarted: Map<string, string>
    let staleBuildsKept: number
    let buildsAfterRebuild: number
    try {
      const buildsNow = listBuilds(projectionsDir)
      staleBuildsKept = leftovers.filter((file) => buildsNow.includes(file)).length
      await untilRebuilt(collector, head)
      buildsAfterRebuild = listBuilds(projectionsDir).length
      restarted = dumpsOf(collector, projections)
    } finally {
      await collector.stop()
    }
    const fresh = await freshDumps(events, projections, head)
    const divergent = projections.map((p) => p.name).filter((name) => fresh.get(name) !== restarted.get(name))
    return {
      head,
      lostEvents,
      oldServing: old.serving,
      oldProblems: old.problems,
      staleBuilds: leftovers.length,
      interruptedFileLeft:
        run.interrupted !== null && leftovers.some((file) => file.startsWith(`${run.interrupted?.name}.`)),
      staleBuildsKept,
      buildsTouchedAfterKill,
      restartLent,
      buildsAfterRebuild,
      divergent,
    }
  })
}

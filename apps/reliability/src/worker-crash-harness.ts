import { type ChildProcess, spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Collector,
  createCollector,
  type EventStore,
  type Logger,
  type Projection,
  silentLogger,
} from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { inspectDirectory, sqliteStore } from '@eskit/sqlite-store'
import BetterSqlite3 from 'better-sqlite3'
import { countLost } from './crash-harness.ts'
import { dumpProjection } from './dump.ts'
import { createRandom } from './random.ts'
import type { ReliabilityRow } from './results.ts'
import { type Generation, generationProjections, projectionOf } from './worker-projections.ts'

const CHILD = new URL('./worker-crash-child.ts', import.meta.url).pathname
/** Build worker threads of the child and of the restart: three of the four builds go to workers. */
const BUILD_WORKERS = 3
const BATCH_SIZE = 100

/** The build the kill interrupted in its worker, as the child reported it just before. */
export interface InterruptedBuild {
  name: string
  /** Where the worker started it, where it was to stop, and its last committed checkpoint. */
  from: number
  target: number
  position: number
}

/** One kill during parallel builds and its checks. */
export interface WorkerTrialResult {
  trial: number
  seed: number
  /** The generation the killed child was building (its versions end with it). */
  generation: Generation
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
  trials: number
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
 * (in workers again) end equal to a single-threaded fresh build. The seed replays a run.
 */
export async function runWorkerCrashTrials(options: WorkerCrashOptions): Promise<WorkerTrialResult[]> {
  const random = createRandom(options.seed)
  const dir = mkdtempSync(join(tmpdir(), 'eskit-worker-crash-'))
  const projectionsDir = join(dir, 'projections')
  const results: WorkerTrialResult[] = []
  try {
    mkdirSync(projectionsDir)
    let live: Generation = 'a'
    await withLog(dir, async (events) => {
      await appendRandom(events, createRandom(options.seed + 1), options.seedEvents ?? 12_000)
      const collector = await openCollector(events, projectionsDir, live, 0)
      await untilRebuilt(collector, await events.head())
      await collector.stop()
    })
    for (let trial = 0; trial < options.trials; trial++) {
      const started = Date.now()
      const seed = random.int(1, 2 ** 31 - 1)
      const generation: Generation = live === 'a' ? 'b' : 'a'
      const before = filesOf(projectionsDir)
      const run = await runAndKill(dir, seed, generation, 0.05 + random.next() * 0.85)
      const check = await verify(dir, generation, before, run)
      live = generation
      const result: WorkerTrialResult = {
        trial,
        seed,
        generation,
        lent: run.lent,
        interrupted: run.interrupted,
        acknowledged: run.acknowledged.length,
        ...check,
        durationMs: Date.now() - started,
      }
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

async function openCollector(
  events: EventStore,
  dir: string,
  generation: Generation | Projection<BetterSqlite3.Database>[],
  buildWorkers: number,
  logger?: Logger,
): Promise<Collector> {
  const collector = createCollector({
    events,
    store: sqliteStore({ dir }),
    batchSize: BATCH_SIZE,
    buildWorkers,
    ...(logger ? { logger } : {}),
  })
  const projections = typeof generation === 'string' ? generationProjections(generation) : generation
  for (const projection of projections) collector.add(projection)
  await collector.start()
  return collector
}

/** Waits until every projection serves its current version at `position` (its rebuild swapped in). */
async function untilRebuilt(collector: Collector, position: number) {
  await collector.waitFor(position, { timeoutMs: 60_000 })
  const deadline = Date.now() + 60_000
  while (collector.status().some((s) => s.state !== 'live' || s.rebuild !== undefined)) {
    if (Date.now() > deadline) throw new Error(`rebuilds not done: ${JSON.stringify(collector.status())}`)
    await sleep(5)
  }
}

/** Version and checkpoint of each live file, read without writing (no process owns the directory). */
function filesOf(projectionsDir: string) {
  const info = inspectDirectory(projectionsDir)
  return new Map(info.projections.map((p) => [p.name, p]))
}

interface KilledRun {
  acknowledged: number[]
  lent: number
  interrupted: InterruptedBuild | null
}

async function runAndKill(
  dir: string,
  seed: number,
  generation: Generation,
  fraction: number,
): Promise<KilledRun> {
  const child = spawn(
    process.execPath,
    [CHILD, dir, String(seed), generation, String(BUILD_WORKERS), String(BATCH_SIZE)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const acknowledged: number[] = []
  const leases = new Map<string, { from: number; target: number; position: number }>()
  let lent = 0
  let interrupted: InterruptedBuild | null = null
  let stderr = ''
  let buffered = ''
  let markDue: () => void = () => {}
  const due = new Promise<void>((resolve) => {
    markDue = resolve
  })
  const read = (line: string) => {
    const [kind, name = '', a = '', b = ''] = line.split(' ')
    if (kind === 'ack') acknowledged.push(Number(name))
    else if (kind === 'lent') {
      lent++
      leases.set(name, { from: Number(a), target: Number(b), position: Number(a) })
    } else if (kind === 'returned' || kind === 'rebuilt') leases.delete(name)
    else if (kind === 'worker') {
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
  // No worker build at all within the time is a failure of the scenario, not a kill to count.
  const outcome = await Promise.race([
    due.then(() => 'kill' as const),
    exited,
    sleep(30_000).then(() => 'timeout' as const),
  ])
  await kill(child, exited)
  if (outcome !== 'kill') {
    throw new Error(`no worker build was interrupted (${outcome}, ${lent} lent): ${stderr}`)
  }
  // Lines written before the kill may still sit in the pipe.
  await sleep(20)
  for (const line of buffered.split('\n')) if (line.startsWith('ack ')) read(line)
  return { acknowledged, lent, interrupted }
}

async function kill(child: ChildProcess, exited: Promise<unknown>) {
  child.kill('SIGKILL')
  await exited
}

type Files = ReturnType<typeof filesOf>

async function verify(dir: string, generation: Generation, before: Files, run: KilledRun) {
  const projectionsDir = join(dir, 'projections')
  return withLog(dir, async (events) => {
    const head = await events.head()
    const lostEvents = await countLost(events, run.acknowledged)
    const after = filesOf(projectionsDir)
    const leftovers = listBuilds(projectionsDir)
    const old = await checkOldFiles(events, projectionsDir, generation, before, after, run.interrupted)
    // Restart where the kill left the directory, with build workers again.
    const projections = generationProjections(generation)
    let restartLent = 0
    const counting: Logger = {
      ...silentLogger,
      debug(message) {
        if (message === 'projection build lent to a worker') restartLent++
      },
    }
    const collector = await openCollector(events, projectionsDir, generation, BUILD_WORKERS, counting)
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
      restartLent,
      buildsAfterRebuild,
      divergent,
    }
  })
}

/**
 * The live files as the kill left them: each opens with its old version (or the new one, if its
 * swap came before the kill: never for the build the kill interrupted), its checkpoint not behind
 * the one it had before the child started, and data equal to a fresh build of its version up to
 * its checkpoint.
 */
async function checkOldFiles(
  events: EventStore,
  projectionsDir: string,
  generation: Generation,
  before: Files,
  after: Files,
  interrupted: InterruptedBuild | null,
) {
  const problems: string[] = []
  let serving = 0
  const copy = mkdtempSync(join(tmpdir(), 'eskit-killed-'))
  try {
    // Dumped from a copy: opening the killed files would recover their WAL in place.
    cpSync(projectionsDir, copy, { recursive: true })
    for (const projection of generationProjections(generation)) {
      const name = projection.name
      const was = before.get(name)
      const now = after.get(name)
      if (!was?.built || was.version === null || was.position === null) {
        problems.push(`${name}: no built file before the child started`)
        continue
      }
      if (!now?.built || now.version === null || now.position === null || now.problem !== null) {
        problems.push(`${name}: no servable file after the kill (${now?.problem ?? 'missing'})`)
        continue
      }
      const swapped = now.version === projection.version
      if (!swapped && now.version !== was.version) {
        problems.push(`${name}: version ${now.version}, neither the old ${was.version} nor the new`)
        continue
      }
      if (!swapped && now.position < was.position)
        problems.push(`${name}: checkpoint moved back from ${was.position} to ${now.position}`)
      if (swapped && interrupted?.name === name)
        problems.push(`${name}: swapped in although its worker build was interrupted`)
      const definition = projectionOf(name, now.version)
      if (!definition) {
        problems.push(`${name}: unknown version ${now.version}`)
        continue
      }
      const db = new BetterSqlite3(join(copy, `${name}.db`))
      let dump: string
      try {
        dump = dumpProjection(db).sha256
      } finally {
        db.close()
      }
      const fresh = await freshDumps(logUpTo(events, now.position), [definition], now.position)
      if (fresh.get(name) !== dump)
        problems.push(`${name}: data differs from a fresh build up to ${now.position}`)
      else if (!swapped) serving++
    }
  } finally {
    rmSync(copy, { recursive: true, force: true })
  }
  return { serving, problems }
}

/** The log as it was at `position`: a fresh build over it stops there. */
function logUpTo(events: EventStore, position: number): EventStore {
  return {
    id: events.id,
    append: () => Promise.reject(new Error('the log up to a position is read-only')),
    async readAll(options) {
      if (options.after >= position) return []
      return (await events.readAll(options)).filter((event) => event.position <= position)
    },
    async readStream(streamId) {
      return (await events.readStream(streamId)).filter((event) => event.position <= position)
    },
    head: async () => Math.min(position, await events.head()),
    onAppend: () => () => {},
    close: async () => {},
  }
}

/** Dumps of a single-threaded build from scratch over `events` up to `position`. */
async function freshDumps(
  events: EventStore,
  projections: Projection<BetterSqlite3.Database>[],
  position: number,
) {
  const dir = mkdtempSync(join(tmpdir(), 'eskit-fresh-'))
  try {
    const collector = await openCollector(events, dir, projections, 0)
    try {
      await collector.waitFor(position, { timeoutMs: 60_000 })
      return dumpsOf(collector, projections)
    } finally {
      await collector.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function dumpsOf(collector: Collector, projections: Projection<BetterSqlite3.Database>[]) {
  return new Map(
    projections.map((p) => [p.name, dumpProjection(collector.reader<BetterSqlite3.Database>(p.name)).sha256]),
  )
}

/** Every file under `.eskit/builds/`: build files and their SQLite companions. */
function listBuilds(projectionsDir: string): string[] {
  try {
    return readdirSync(join(projectionsDir, '.eskit', 'builds'))
  } catch {
    return []
  }
}

function sleep(ms: number) {
  return new Promise<void>((resolve) => setTimeout(resolve, ms))
}

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
    case: `${label}SIGKILL while builds run in worker threads (a new version of all four projections building beside the old files, ${BUILD_WORKERS} build workers, appends going on), restart, compare`,
    tried: results.length,
    held: results.filter(workerTrialHeld).length,
    detail: [
      `seed ${seed}`,
      `kills inside a worker build: ${interrupted.length} (the worker had committed ${range} of its share; that build's file left unswapped)`,
      `builds lent to workers: ${sum((r) => r.lent)}`,
      `old files serving after the kill: ${sum((r) => r.oldServing)} of ${results.length * 4} (old version, checkpoint not moved back, equal to a fresh build up to it; the rest had swapped in before the kill)`,
      `problems with them: ${sum((r) => r.oldProblems.length)}`,
      `builds lent to workers by the restarts: ${sum((r) => r.restartLent)}`,
      `build files left by the kills: ${sum((r) => r.staleBuilds)}, still there once the restart's start() resolved: ${sum((r) => r.staleBuildsKept)}, after its rebuilds: ${sum((r) => r.buildsAfterRebuild)}`,
      `events lost: ${sum((r) => r.lostEvents)}`,
      `divergent projections: ${sum((r) => r.divergent.length)} (rebuilt in workers after the restart vs a single-threaded fresh build)`,
      `acknowledged appends checked: ${sum((r) => r.acknowledged)}`,
    ].join('; '),
  }
}

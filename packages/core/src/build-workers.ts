import type { Worker } from 'node:worker_threads'
import type { BuildAssignment, BuildMember, BuildReport } from './build-worker-protocol.js'
import { type CollectorContext, isStopping } from './collector-context.js'
import { messageOf } from './error-text.js'
import type { ProjectionBuild } from './projection-store.js'
import {
  isHeld,
  keepOnMain,
  lendRun,
  type ProjectionUnit,
  type RebuildRun,
  reclaimRun,
  runOf,
} from './projection-unit.js'
import type { StatusReporter } from './status-reporter.js'

/**
 * Runs rebuilds in worker threads, up to `buildWorkers` at a time. Rebuilds beside the live data
 * that the main thread runs are lent to free workers: the ones at the same checkpoint are split
 * between the free workers and the main thread, so each thread reads the log once for its share.
 * A worker reopens the log and the build files, commits batches up to the head seen when it got
 * them, and hands each build back; the main thread commits the rest and swaps it in as usual.
 */
export interface BuildWorkers {
  /** Lends main-thread rebuilds to free workers; returns whether one was lent. */
  dispatch(): Promise<boolean>
  /** The build is about to be thrown away: the worker that holds it hands it back first. */
  recall(build: ProjectionBuild): Promise<void>
  /** Ends every worker (the collector stops); their builds stay lent, to be discarded. */
  stopAll(): Promise<void>
  /**
   * Whether builds of this projection can go to a worker (a first build is then made beside);
   * when not, says why in the log, once per projection.
   */
  canLend(unit: ProjectionUnit): boolean
}

interface Lease {
  readonly unit: ProjectionUnit
  readonly run: RebuildRun
  readonly build: ProjectionBuild
  readonly job: Job
  /** The last checkpoint the worker reported. */
  position: number
  /** Set once the worker handed it back (or was ended): later reports change nothing. */
  settled: boolean
  /** Resolves once settled. */
  readonly handedBack: Promise<void>
  readonly resolveHandedBack: () => void
}

interface Job {
  readonly worker: Worker
  readonly leases: Map<string, Lease>
  readonly exited: Promise<void>
}

type WorkerClass = typeof Worker

export function createBuildWorkers(
  context: CollectorContext,
  parts: { reporter: StatusReporter; wake: () => void },
): BuildWorkers {
  const { events, logger, clock, batchSize, buildWorkers } = context.settings
  const { reporter, wake } = parts
  const jobs = new Set<Job>()
  const byBuild = new Map<ProjectionBuild, Lease>()
  /** Projections whose main-thread build was already explained in the log. */
  const explained = new Set<string>()
  let workerClass: WorkerClass | undefined

  const loadWorkerClass = async (): Promise<WorkerClass> => {
    workerClass ??= (await import('node:worker_threads')).Worker
    return workerClass
  }

  /** Why builds of this projection cannot go to a worker, or null when they can. */
  const obstacle = (unit: ProjectionUnit): string | null => {
    const { store } = context.settings
    if (!unit.projection.source) return 'the projection has no source (module and export) to load in a worker'
    if (
      !store.capabilities.buildBeside ||
      typeof store.beginBuild !== 'function' ||
      !store.capabilities.workerBuilds
    )
      return `the projection store (${store.kind}) cannot build in a worker`
    if ((events.workerSource?.() ?? null) === null) return 'the event log cannot be opened in a worker'
    return null
  }

  const keep = (unit: ProjectionUnit, reason: string): void => {
    keepOnMain(unit)
    if (explained.has(unit.name)) return
    explained.add(unit.name)
    logger.info('projection builds on the main thread', { name: unit.name, reason })
  }

  const current = (lease: Lease): boolean => !lease.settled && runOf(lease.unit) === lease.run

  /** The worker is done with the build (finished, failed or gone): the main thread takes it back. */
  const settle = (lease: Lease, lendable: boolean): void => {
    if (lease.settled) return
    const mine = runOf(lease.unit) === lease.run
    lease.settled = true
    byBuild.delete(lease.build)
    lease.job.leases.delete(lease.unit.name)
    lease.resolveHandedBack()
    if (!mine || isStopping(context)) return
    try {
      lease.build.reclaim?.()
    } catch (error) {
      // the build's slot reports itself lost now: the opener begins the build again
      logger.warn('could not take a build back from its worker', {
        name: lease.unit.name,
        error: messageOf(error),
      })
    }
    reclaimRun(lease.unit, lease.position, lendable)
    reporter.refresh(lease.unit)
    wake()
  }

  const onReport = (job: Job, report: BuildReport): void => {
    const lease = job.leases.get(report.name)
    if (!lease || lease.settled) return
    lease.position = report.position
    if (!current(lease)) {
      settle(lease, false)
      return
    }
    lease.run.position = report.position
    lease.unit.meter.add(report.position)
    if (report.kind === 'progress') {
      reporter.progress(lease.unit, false)
      reporter.refresh(lease.unit)
      return
    }
    if (report.kind === 'failed') {
      // The main thread goes on from the last checkpoint: a batch that fails there again fails
      // as any apply does (retried, parked or halted per onError).
      logger.warn('the build worker of the projection failed; going on on the main thread', {
        name: lease.unit.name,
        position: report.position,
        error: report.message,
        ...(report.code === undefined ? {} : { code: report.code }),
      })
      settle(lease, false)
      return
    }
    logger.debug('build worker reached its target', {
      name: lease.unit.name,
      position: report.position,
      ms: Math.round(clock.now() - lease.run.startedAt),
    })
    settle(lease, true)
  }

  interface Candidate {
    readonly unit: ProjectionUnit
    readonly run: RebuildRun
    readonly build: ProjectionBuild
  }

  /** Lends these builds (all at checkpoint `from`) to one new worker; returns how many went. */
  const lend = async (group: readonly Candidate[], from: number): Promise<number> => {
    const log = events.workerSource?.() ?? null
    if (log === null) {
      for (const { unit } of group) keep(unit, 'the event log cannot be opened in a worker')
      return 0
    }
    const WorkerThread = await loadWorkerClass()
    const target = context.head
    const lent: Array<{ candidate: Candidate; member: BuildMember }> = []
    for (const candidate of group) {
      const { unit, run, build } = candidate
      // awaited above: the unit may have moved on meanwhile
      if (isStopping(context) || runOf(unit) !== run || run.executor.kind !== 'main' || run.position !== from)
        continue
      const reason = obstacle(unit)
      const source = reason === null && typeof build.lend === 'function' ? build.lend() : null
      if (source === null || !unit.projection.source) {
        keep(unit, reason ?? 'the projection store cannot build this projection in a worker')
        continue
      }
      const member: BuildMember = {
        name: unit.name,
        version: unit.projection.version,
        projection: { module: unit.projection.source.module, export: unit.projection.source.export },
        build: source,
        types: unit.types === null ? null : [...unit.types],
      }
      lent.push({ candidate, member })
    }
    if (lent.length === 0) return 0
    const assignment: BuildAssignment = {
      log,
      members: lent.map((entry) => entry.member),
      from,
      target,
      batchSize,
    }
    let worker: Worker
    try {
      worker = new WorkerThread(new URL('./build-worker.mjs', import.meta.url), { workerData: assignment })
    } catch (error) {
      for (const { candidate } of lent) {
        candidate.build.reclaim?.()
        keep(candidate.unit, `a worker thread could not be started: ${messageOf(error)}`)
      }
      return 0
    }
    let exitedResolve: () => void = () => {}
    const exited = new Promise<void>((resolve) => {
      exitedResolve = resolve
    })
    const job: Job = { worker, leases: new Map(), exited }
    jobs.add(job)
    for (const { candidate } of lent) {
      lendRun(candidate.unit, target)
      let resolveHandedBack: () => void = () => {}
      const handedBack = new Promise<void>((resolve) => {
        resolveHandedBack = resolve
      })
      const lease: Lease = {
        ...candidate,
        job,
        position: from,
        settled: false,
        handedBack,
        resolveHandedBack,
      }
      job.leases.set(candidate.unit.name, lease)
      byBuild.set(candidate.build, lease)
    }
    worker.on('message', (report: BuildReport) => onReport(job, report))
    worker.on('error', (error) => {
      for (const lease of [...job.leases.values()]) {
        if (current(lease)) {
          logger.warn('the build worker of the projection crashed; going on on the main thread', {
            name: lease.unit.name,
            position: lease.position,
            error: messageOf(error),
          })
        }
        settle(lease, false)
      }
    })
    worker.on('exit', () => {
      jobs.delete(job)
      exitedResolve()
      // ended without a report: each build goes on from the last checkpoint it reported
      for (const lease of [...job.leases.values()]) settle(lease, false)
      wake()
    })
    logger.debug('projection builds lent to a worker', {
      names: lent.map((entry) => entry.member.name),
      from,
      target,
    })
    for (const { member } of lent)
      logger.debug('projection build lent to a worker', { name: member.name, from, target })
    return lent.length
  }

  const end = async (job: Job): Promise<void> => {
    for (const lease of job.leases.values()) {
      lease.settled = true
      byBuild.delete(lease.build)
      lease.resolveHandedBack()
    }
    job.leases.clear()
    await job.worker.terminate().catch(() => {})
    await job.exited
  }

  return {
    async dispatch() {
      if (buildWorkers === 0 || isStopping(context)) return false
      let free = buildWorkers - jobs.size
      if (free <= 0) return false
      const now = clock.now()
      const groups = new Map<number, Candidate[]>()
      for (const unit of context.units) {
        const run = runOf(unit)
        if (!run?.build || run.executor.kind !== 'main' || !run.executor.lendable || isHeld(unit, now))
          continue
        // a short tail is quicker on the main thread than a thread start-up
        if (context.head - run.position < batchSize) continue
        const group = groups.get(run.position)
        const candidate = { unit, run, build: run.build }
        if (group) group.push(candidate)
        else groups.set(run.position, [candidate])
      }
      // the furthest behind first; each group is shared between the free workers and the main thread
      const positions = [...groups.keys()].sort((a, b) => a - b)
      let lent = false
      for (const position of positions) {
        if (free <= 0 || isStopping(context)) break
        const group = groups.get(position) ?? []
        // with more builds than free workers the main thread keeps a share (the last, never
        // larger than a worker's); the shares differ by at most one build
        const mainKeepsOne = group.length > free
        const shares = mainKeepsOne ? free + 1 : group.length
        const toWorkers = mainKeepsOne ? shares - 1 : shares
        const base = Math.floor(group.length / shares)
        const larger = group.length % shares
        let start = 0
        for (let share = 0; share < toWorkers && free > 0; share++) {
          const size = base + (share < larger ? 1 : 0)
          if ((await lend(group.slice(start, start + size), position)) > 0) {
            lent = true
            free -= 1
          }
          start += size
        }
      }
      return lent
    },
    canLend(unit) {
      if (buildWorkers === 0) return false
      const reason = obstacle(unit)
      if (reason === null) return true
      keep(unit, reason)
      return false
    },
    async recall(build) {
      const lease = byBuild.get(build)
      if (!lease || lease.settled) return
      // the worker closes its slot between batches and reports it done; the build is then free
      lease.job.worker.postMessage({ kind: 'drop', name: lease.unit.name })
      await Promise.race([lease.handedBack, lease.job.exited])
    },
    async stopAll() {
      await Promise.all([...jobs].map(end))
    },
  }
}

import type { Worker } from 'node:worker_threads'
import type { BuildAssignment, BuildReport } from './build-worker-protocol.js'
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
 * Runs rebuilds in worker threads, up to `buildWorkers` at a time. A rebuild beside the live data
 * that the main thread is running is lent to a free worker (largest remaining first): the worker
 * reopens the log and the build file, commits batches up to the head seen when it was lent, and
 * hands the build back; the main thread then commits the rest and swaps it in as usual.
 */
export interface BuildWorkers {
  /** Lends main-thread rebuilds to free workers; returns whether one was lent. */
  dispatch(): Promise<boolean>
  /** The build is about to be thrown away: ends the worker that holds it, if any. */
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
  readonly worker: Worker
  /** The last checkpoint the worker reported. */
  position: number
  /** Set once the worker reported its end (or was ended): later events change nothing. */
  settled: boolean
  readonly exited: Promise<void>
}

type WorkerClass = typeof Worker

export function createBuildWorkers(
  context: CollectorContext,
  parts: { reporter: StatusReporter; wake: () => void },
): BuildWorkers {
  const { events, logger, clock, batchSize, buildWorkers } = context.settings
  const { reporter, wake } = parts
  const leases = new Map<ProjectionBuild, Lease>()
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
    leases.delete(lease.build)
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

  const onReport = (lease: Lease, report: BuildReport): void => {
    if (!current(lease)) return
    lease.position = report.position
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

  const lend = async (unit: ProjectionUnit, run: RebuildRun, build: ProjectionBuild): Promise<boolean> => {
    const log = events.workerSource?.() ?? null
    const reason = obstacle(unit)
    if (reason !== null || log === null || !unit.projection.source || typeof build.lend !== 'function') {
      keep(unit, reason ?? 'the projection store cannot build in a worker')
      return false
    }
    const WorkerThread = await loadWorkerClass()
    // awaited above: the unit may have moved on meanwhile
    if (isStopping(context) || runOf(unit) !== run || run.executor.kind !== 'main') return false
    const source = build.lend?.() ?? null
    if (source === null) {
      keep(unit, 'the projection store cannot build this projection in a worker')
      return false
    }
    const target = context.head
    const assignment: BuildAssignment = {
      name: unit.name,
      version: unit.projection.version,
      projection: { module: unit.projection.source.module, export: unit.projection.source.export },
      log,
      build: source,
      from: run.position,
      target,
      batchSize,
      types: unit.types === null ? null : [...unit.types],
    }
    let worker: Worker
    try {
      worker = new WorkerThread(new URL('./build-worker.mjs', import.meta.url), { workerData: assignment })
    } catch (error) {
      build.reclaim?.()
      keep(unit, `a worker thread could not be started: ${messageOf(error)}`)
      return false
    }
    lendRun(unit, target)
    let exitedResolve: () => void = () => {}
    const exited = new Promise<void>((resolve) => {
      exitedResolve = resolve
    })
    const lease: Lease = { unit, run, build, worker, position: run.position, settled: false, exited }
    leases.set(build, lease)
    worker.on('message', (report: BuildReport) => onReport(lease, report))
    worker.on('error', (error) => {
      if (!current(lease)) return
      logger.warn('the build worker of the projection crashed; going on on the main thread', {
        name: unit.name,
        position: lease.position,
        error: messageOf(error),
      })
      settle(lease, false)
    })
    worker.on('exit', () => {
      exitedResolve()
      // ended without a report: the build goes on from the last checkpoint it reported
      if (current(lease)) settle(lease, false)
    })
    logger.debug('projection build lent to a worker', { name: unit.name, from: run.position, target })
    return true
  }

  const end = async (lease: Lease): Promise<void> => {
    lease.settled = true
    leases.delete(lease.build)
    await lease.worker.terminate().catch(() => {})
    await lease.exited
  }

  return {
    async dispatch() {
      if (buildWorkers === 0 || isStopping(context)) return false
      const now = clock.now()
      const candidates: Array<{ unit: ProjectionUnit; run: RebuildRun; build: ProjectionBuild }> = []
      for (const unit of context.units) {
        const run = runOf(unit)
        if (!run?.build || run.executor.kind !== 'main' || !run.executor.lendable || isHeld(unit, now))
          continue
        // a short tail is quicker on the main thread than a thread start-up
        if (context.head - run.position < batchSize) continue
        candidates.push({ unit, run, build: run.build })
      }
      candidates.sort((a, b) => a.run.position - b.run.position)
      let lent = false
      for (const { unit, run, build } of candidates) {
        if (leases.size >= buildWorkers || isStopping(context)) break
        if (await lend(unit, run, build)) lent = true
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
      const lease = leases.get(build)
      if (lease) await end(lease)
    },
    async stopAll() {
      await Promise.all([...leases.values()].map(end))
    },
  }
}

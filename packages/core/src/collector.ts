import { createBatchRunner } from './batch-runner.js'
import { createBuildWorkers } from './build-workers.js'
import { DEFAULT_WAIT_TIMEOUT_MS, validateConfig, validateProjection } from './collector-config.js'
import { createContext, isStopping } from './collector-context.js'
import { createListeners } from './collector-listeners.js'
import type { Collector, CollectorConfig } from './collector-types.js'
import { createDeferred } from './deferred.js'
import { messageOf } from './error-text.js'
import { EskitError } from './eskit-error.js'
import { createFailurePolicy } from './failure-policy.js'
import { attemptsOf, logReadFailed, logReadSucceeded } from './log-reachability.js'
import type { Projection } from './projection.js'
import type { ParkedEvent, ProjectionStore } from './projection-store.js'
import { buildOf, createUnit, isHalted, type ProjectionUnit, requestRebuild } from './projection-unit.js'
import { createRebuilder } from './rebuild.js'
import { createRequestPoller } from './request-poller.js'
import { createScheduler } from './scheduler.js'
import { createStatusReporter } from './status-reporter.js'
import { createUnitOpener } from './unit-opener.js'
import { assertProjectionName } from './validation.js'
import { createWaitRegistry } from './wait-registry.js'

/**
 * Creates a collector: it runs projections against an event log and a projection store,
 * catching them up in shared batches, following appends live, rebuilding them when their
 * version or the log changes, and isolating a failing projection from the others.
 *
 * @example
 * ```ts
 * const events = createMemoryEventStore()
 * const collector = createCollector({ events, store: memoryStore(), onError: 'retry' })
 * collector.add(passCount)
 * await collector.start()
 * const { position } = await events.append('pass-1', [{ type: 'PassIssued', data: { holder: 'Ada' } }])
 * await collector.waitFor(position)
 * await collector.stop()
 * ```
 */
export function createCollector<Conn = unknown>(config: CollectorConfig<Conn>): Collector<Conn> {
  const settings = validateConfig(config as CollectorConfig)
  const { events, store, logger, clock } = settings
  const context = createContext(settings)
  const listeners = createListeners(logger)
  const reporter = createStatusReporter(context, listeners)
  const waits = createWaitRegistry(clock)
  const scheduler = createScheduler(context, {
    failed(error, retryInMs) {
      // logged once when the log becomes unreachable, then quietly while it stays so
      const entered = logReadFailed(context, error, clock.now())
      const fields = { error: messageOf(error), retryInMs, attempts: attemptsOf(context) }
      if (entered) logger.error('collector could not read the event log', fields)
      else logger.debug('event log still unreachable', fields)
      if (entered) reporter.publish(true)
    },
    succeeded() {
      const downMs = logReadSucceeded(context, clock.now())
      if (downMs === null) return
      logger.info('event log reachable again', { downMs })
      reporter.publish(true)
    },
  })
  const failures = createFailurePolicy(context, { listeners, reporter, waits, wake: scheduler.wake })
  const workers = createBuildWorkers(context, { reporter, wake: scheduler.wake })
  const rebuilder = createRebuilder(context, { listeners, reporter, failures, waits, workers })
  const opener = createUnitOpener(context, { reporter, failures, rebuilder, waits, workers })
  const batches = createBatchRunner(context, { reporter, failures, rebuilder, waits })
  const requests = createRequestPoller(context, (name) => collector.rebuild(name))

  let startPromise: Promise<void> | undefined
  let stopPromise: Promise<void> | undefined
  let loopPromise: Promise<void> | undefined
  let unsubscribe: (() => void) | undefined

  /** Maintenance (opens, rebuild requests, lost data) then one batch per group of positions. */
  const pass = async (): Promise<boolean> => {
    let worked = false
    for (const unit of context.units) {
      if (isStopping(context)) return false
      if (await opener.maintain(unit)) worked = true
    }
    if (isStopping(context)) return false
    if (await workers.dispatch()) worked = true
    if (isStopping(context)) return false
    if (await batches.runBatches()) worked = true
    return worked
  }

  const assertNotClosed = (): void => {
    if (isStopping(context)) throw new EskitError('CLOSED', 'the collector is stopped')
  }
  const unitOf = (name: string): ProjectionUnit => {
    assertProjectionName(name)
    const unit = context.byName.get(name)
    if (!unit)
      throw new EskitError('NOT_FOUND', `no projection named ${JSON.stringify(name)}`, { details: { name } })
    return unit
  }

  const doStart = async (): Promise<void> => {
    // The log first: a log that cannot be read (UNAVAILABLE) fails start() before the store is
    // claimed, so start() can be called again. A store once closed cannot be opened again.
    let head: number
    try {
      head = await events.head()
    } catch (error) {
      context.phase = 'new'
      throw error
    }
    try {
      await store.open({ logId: events.id, logger })
    } catch (error) {
      context.phase = 'new'
      throw error
    }
    context.storeOpened = true
    // Read again now that the store is ours: the process that held it before may have moved its
    // projections past the first head until it let go, and a file past the head is not trusted.
    // (If the log fails just now, the first head stands: the race then needs both at once.)
    head = Math.max(head, await events.head().catch(() => head))
    context.head = head
    for (const unit of context.units) await opener.open(unit, head)
    unsubscribe = events.onAppend((appended) => {
      if (appended > context.head) context.head = appended
      scheduler.wake()
    })
    scheduler.startPolling(() => {
      scheduler.wake()
      requests.poll()
    })
    if (context.phase === 'starting') context.phase = 'started'
    reporter.publish(true)
    loopPromise = scheduler.run(pass)
  }

  const doStop = async (): Promise<void> => {
    const wasStarted = context.phase !== 'new'
    context.phase = 'stopping'
    if (startPromise) await startPromise.catch(() => {})
    scheduler.wake()
    if (loopPromise) await loopPromise
    // a build lent to a worker is not finished: the worker ends, the build is discarded below
    await workers.stopAll()
    unsubscribe?.()
    unsubscribe = undefined
    scheduler.stopPolling()
    reporter.close()
    const closed = new EskitError('CLOSED', 'the collector was stopped')
    waits.rejectAll(closed)
    for (const unit of context.units) {
      failures.cancel(unit)
      const deferred = unit.rebuildDeferred
      unit.rebuildDeferred = null
      deferred?.reject(closed)
    }
    context.phase = 'stopped'
    for (const unit of context.units) unit.state = 'stopped'
    if (!wasStarted || !context.storeOpened) return
    reporter.publish(true)
    for (const unit of context.units) {
      // a build that did not finish is thrown away: the next start begins it again
      const build = buildOf(unit)
      if (build) await rebuilder.closeQuietly(build, true)
      if (unit.slot) await rebuilder.closeQuietly(unit.slot, false)
      unit.slot = null
    }
    context.storeOpened = false
    await store.close()
  }

  const collector: Collector<Conn> = {
    store: store as ProjectionStore<Conn>,
    events,
    add(projection: Projection<Conn>): Collector<Conn> {
      assertNotClosed()
      if (context.phase !== 'new') throw new EskitError('INVALID_STATE', 'add projections before start()')
      const checked = validateProjection(projection as Projection<unknown>)
      if (context.byName.has(checked.name)) {
        throw new EskitError('DUPLICATE_NAME', `a projection named ${checked.name} was already added`, {
          details: { name: checked.name },
        })
      }
      const unit = createUnit(checked, clock.now)
      context.units.push(unit)
      context.byName.set(unit.name, unit)
      return collector
    },
    start(): Promise<void> {
      if (isStopping(context)) return Promise.reject(new EskitError('CLOSED', 'the collector is stopped'))
      if (context.phase !== 'new')
        return Promise.reject(new EskitError('INVALID_STATE', 'the collector is already started'))
      context.phase = 'starting'
      startPromise = doStart()
      return startPromise
    },
    stop(): Promise<void> {
      stopPromise ??= doStop()
      return stopPromise
    },
    status: reporter.status,
    waitFor(position: number, options: { projections?: string[]; timeoutMs?: number } = {}): Promise<void> {
      try {
        assertNotClosed()
        if (typeof position !== 'number' || !Number.isInteger(position) || position < 0) {
          throw new EskitError(
            'INVALID_ARGUMENT',
            `waitFor needs an integer position >= 0, not ${String(position)}`,
          )
        }
        const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS
        if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) {
          throw new EskitError('INVALID_ARGUMENT', 'waitFor: timeoutMs must be a number >= 0')
        }
        if (options.projections !== undefined && !Array.isArray(options.projections)) {
          throw new EskitError('INVALID_ARGUMENT', 'waitFor: projections must be an array of names')
        }
        const waited =
          options.projections === undefined ? [...context.units] : options.projections.map(unitOf)
        const halted = waited.find(isHalted)
        if (halted) throw failures.haltedError(halted)
        return waits.wait(waited, position, timeoutMs)
      } catch (error) {
        return Promise.reject(error)
      }
    },
    rebuild(name: string): Promise<void> {
      try {
        assertNotClosed()
        const unit = unitOf(name)
        if (context.phase !== 'started')
          throw new EskitError('INVALID_STATE', 'start the collector before rebuild()')
        if (unit.rebuildDeferred) return unit.rebuildDeferred.promise
        const deferred = createDeferred()
        unit.rebuildDeferred = deferred
        requestRebuild(unit, 'requested')
        // a failed or halted projection starts its rebuild now rather than after its backoff
        failures.resume(unit)
        reporter.refresh(unit)
        scheduler.wake()
        return deferred.promise
      } catch (error) {
        return Promise.reject(error)
      }
    },
    on: listeners.on,
    async parked(name: string): Promise<ParkedEvent[]> {
      assertNotClosed()
      const unit = unitOf(name)
      if (!unit.slot) return []
      return unit.slot.parked()
    },
    reader<Reader = Conn>(name: string): Reader {
      assertNotClosed()
      unitOf(name)
      return store.reader(name) as Reader
    },
    readFailed(name: string, error: unknown): void {
      if (isStopping(context) || !context.byName.has(name) || !store.readFailed) return
      try {
        store.readFailed(name, error)
      } catch (failure) {
        logger.warn('projection store could not take a failed read', { name, error: messageOf(failure) })
      }
      // the next pass checks the slot: data the store now suspects is reopened and checked
      scheduler.wake()
    },
  }
  return collector
}

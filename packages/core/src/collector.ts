import type {
  Collector,
  CollectorConfig,
  ErrorInfo,
  ProgressInfo,
  ProjectionState,
  ProjectionStatus,
  RebuiltInfo,
} from './collector-types.js'
import { EskitError, isEskitError } from './eskit-error.js'
import type { StoredEvent } from './event.js'
import { type Logger, silentLogger } from './logger.js'
import type { Projection } from './projection.js'
import type { ParkedEvent, ProjectionBuild, ProjectionSlot, StoreRequest } from './projection-store.js'
import { createRateMeter, type RateMeter } from './rate-meter.js'
import { assertProjectionName } from './validation.js'

const DEFAULT_BATCH_SIZE = 1000
const MAX_BATCH_SIZE = 100_000
const DEFAULT_POLL_MS = 500
const DEFAULT_RETRY_INITIAL_MS = 100
const DEFAULT_RETRY_MAX_MS = 30_000
const DEFAULT_WAIT_TIMEOUT_MS = 30_000
/** setTimeout fires at once (with a warning) for longer delays: about 24.8 days is "no timeout". */
const MAX_TIMER_MS = 2_147_483_647
const PROGRESS_EVERY_MS = 200
const PUBLISH_EVERY_MS = 250

type Policy = 'retry' | 'skip' | 'stop'
type CollectorEvent = 'progress' | 'error' | 'rebuilt'

interface Deferred {
  readonly promise: Promise<void>
  resolve(): void
  reject(error: Error): void
}

/** A rebuild in progress: beside the live data (`build`) or in place (`build === null`). */
interface RebuildRun {
  readonly build: ProjectionBuild | null
  /** The build's checkpoint (in place: the live position is used instead). */
  position: number
  readonly startedAt: number
  readonly reason: string
}

/** Everything the collector knows about one projection. */
interface Entry {
  readonly projection: Projection<unknown>
  readonly name: string
  /** null = every event type. */
  readonly types: ReadonlySet<string> | null
  state: ProjectionState
  slot: ProjectionSlot | null
  /** The live slot's checkpoint: what readers see. */
  position: number
  opened: boolean
  /** The live slot holds initialised data (a build beside is only worth it then). */
  liveInitialized: boolean
  /** Reached the head since it was opened, rebuilt or recovered: `live` rather than `catching-up`. */
  reachedHead: boolean
  run: RebuildRun | null
  /** A rebuild to begin (why), before the projection may advance again. */
  pendingRebuild: string | null
  /**
   * The live data is not explained by this log (other log id, or ahead of its head): it must not
   * keep serving while a rebuild runs beside it, so the rebuild empties it in place (behaviour 3).
   */
  untrusted: boolean
  rebuildDeferred: Deferred | null
  error: { message: string; position: number; attempts: number } | undefined
  attempts: number
  /** Not before this time (ms since epoch) after a failure. */
  retryAt: number
  retryTimer: ReturnType<typeof setTimeout> | undefined
  /** Failed with `onError: 'stop'`: waits for `rebuild(name)` or a restart. */
  halted: boolean
  readonly meter: RateMeter
  lastProgressAt: number
  lastRebuild: { at: string; durationMs: number } | undefined
}

interface Waiter {
  readonly entries: readonly Entry[]
  readonly position: number
  readonly timeoutMs: number
  resolve(): void
  reject(error: Error): void
  timer: ReturnType<typeof setTimeout> | undefined
}

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
export function createCollector(config: CollectorConfig): Collector {
  const settings = validateConfig(config)
  const { events, store, logger, batchSize, policy, pollIntervalMs, retryInitialMs, retryMaxMs } = settings

  const entries: Entry[] = []
  const byName = new Map<string, Entry>()
  const listeners = new Map<CollectorEvent, Set<(info: unknown) => void>>()
  const waiters = new Set<Waiter>()

  let phase: 'new' | 'starting' | 'started' | 'stopping' | 'stopped' = 'new'
  let storeOpened = false
  let startPromise: Promise<void> | undefined
  let stopPromise: Promise<void> | undefined
  let loopPromise: Promise<void> | undefined
  let lastHead = 0
  let unsubscribe: (() => void) | undefined
  let pollTimer: ReturnType<typeof setInterval> | undefined
  let takingRequests = false
  let lastPublishAt = 0
  let publishTimer: ReturnType<typeof setTimeout> | undefined

  // ---- wake-up: appends resolve the idle loop's promise directly (no timer in between) ----
  let wakePending = false
  let wakeResolve: (() => void) | undefined
  const wake = (): void => {
    wakePending = true
    const resolve = wakeResolve
    wakeResolve = undefined
    resolve?.()
  }
  const idle = async (): Promise<void> => {
    if (wakePending || phase !== 'started') return
    await new Promise<void>((resolve) => {
      wakeResolve = resolve
    })
  }
  const stopping = (): boolean => phase === 'stopping' || phase === 'stopped'

  // ---- events ----
  const emit = (event: CollectorEvent, info: ProgressInfo | ErrorInfo | RebuiltInfo): void => {
    const failed = (error: unknown): void => {
      logger.error(`collector ${event} listener threw`, { event, error: messageOf(error) })
    }
    for (const listener of [...(listeners.get(event) ?? [])]) {
      try {
        const returned: unknown = listener(info)
        // an async listener's rejection would otherwise be unhandled (and end the process)
        if (isThenable(returned)) returned.then(undefined, failed)
      } catch (error) {
        failed(error)
      }
    }
  }

  // ---- status ----
  const unitPosition = (entry: Entry): number => (entry.run?.build ? entry.run.position : entry.position)
  const statusOf = (entry: Entry): ProjectionStatus => {
    const status: ProjectionStatus = {
      name: entry.name,
      version: entry.projection.version,
      state: entry.state,
      position: entry.position,
      head: lastHead,
      lag: Math.max(0, lastHead - entry.position),
    }
    if (entry.error) status.error = { ...entry.error }
    if (entry.run && entry.state !== 'stopped') status.rebuild = rebuildProgress(entry)
    if (entry.lastRebuild) status.lastRebuild = { ...entry.lastRebuild }
    return status
  }
  const rebuildProgress = (entry: Entry): NonNullable<ProjectionStatus['rebuild']> => {
    const position = unitPosition(entry)
    const target = Math.max(lastHead, position)
    const eventsPerSecond = Math.round(entry.meter.perSecond())
    const etaMs = eventsPerSecond > 0 ? Math.round(((target - position) / eventsPerSecond) * 1000) : 0
    return { position, target, eventsPerSecond, etaMs }
  }
  const status = (): ProjectionStatus[] => entries.map(statusOf)

  const publish = (force: boolean): void => {
    // start() publishes once when every projection is open, not once per projection
    if (!store.publishStatus || !storeOpened || phase === 'starting') return
    const now = Date.now()
    if (!force && now - lastPublishAt < PUBLISH_EVERY_MS) {
      // trailing publish so the last change is not lost
      publishTimer ??= setTimeout(
        () => {
          publishTimer = undefined
          if (!stopping()) publish(true)
        },
        PUBLISH_EVERY_MS - (now - lastPublishAt),
      )
      return
    }
    lastPublishAt = now
    try {
      store.publishStatus(status())
    } catch (error) {
      logger.warn('projection store could not publish the status', { error: messageOf(error) })
    }
  }

  const computeState = (entry: Entry): ProjectionState => {
    if (phase === 'stopped') return 'stopped'
    if (entry.error) return 'failed'
    if (!entry.opened) return 'starting'
    if (entry.run || entry.pendingRebuild !== null) return 'rebuilding'
    return entry.reachedHead ? 'live' : 'catching-up'
  }
  const refresh = (entry: Entry): void => {
    const next = computeState(entry)
    if (next === entry.state) {
      publish(false)
      return
    }
    logger.debug('projection state changed', { name: entry.name, from: entry.state, to: next })
    entry.state = next
    publish(true)
  }

  const progress = (entry: Entry, force: boolean): void => {
    const now = performance.now()
    if (!force && now - entry.lastProgressAt < PROGRESS_EVERY_MS) return
    entry.lastProgressAt = now
    const position = unitPosition(entry)
    const { target, eventsPerSecond, etaMs } = rebuildProgress(entry)
    emit('progress', { name: entry.name, state: entry.state, position, target, eventsPerSecond, etaMs })
  }

  // ---- waiters ----
  const checkWaiters = (): void => {
    for (const waiter of waiters) {
      if (waiter.entries.every((entry) => entry.position >= waiter.position)) {
        waiters.delete(waiter)
        if (waiter.timer) clearTimeout(waiter.timer)
        waiter.resolve()
      }
    }
  }
  const failWaitersOf = (entry: Entry): void => {
    for (const waiter of waiters) {
      if (!waiter.entries.includes(entry)) continue
      waiters.delete(waiter)
      if (waiter.timer) clearTimeout(waiter.timer)
      waiter.reject(haltedError(entry))
    }
  }
  const haltedError = (entry: Entry): EskitError =>
    new EskitError(
      'FAILED',
      `projection ${entry.name} is failed at position ${entry.error?.position ?? entry.position} and stopped (onError: 'stop'): ${entry.error?.message ?? 'unknown error'}`,
      { details: { name: entry.name, ...(entry.error ?? {}) } },
    )

  // ---- failures ----
  const scheduleRetry = (entry: Entry): void => {
    const delay = Math.min(retryInitialMs * 2 ** Math.max(0, entry.attempts - 1), retryMaxMs, MAX_TIMER_MS)
    entry.retryAt = Date.now() + delay
    if (entry.retryTimer) clearTimeout(entry.retryTimer)
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = undefined
      entry.retryAt = 0
      wake()
    }, delay)
  }
  const recordFailure = (
    entry: Entry,
    error: unknown,
    position: number,
    used: Policy,
    step: string,
  ): void => {
    const message = causeMessage(error)
    entry.attempts = entry.error && entry.error.position === position ? entry.attempts + 1 : 1
    entry.error = { message, position, attempts: entry.attempts }
    entry.reachedHead = false
    const code = isEskitError(error) ? error.code : undefined
    logger.error('projection failed', {
      name: entry.name,
      step,
      position,
      attempts: entry.attempts,
      policy: used,
      code,
      error: message,
    })
    emit('error', {
      name: entry.name,
      error: asError(error),
      position,
      attempts: entry.attempts,
      policy: used,
    })
    if (used === 'stop') {
      entry.halted = true
      failWaitersOf(entry)
      const deferred = entry.rebuildDeferred
      entry.rebuildDeferred = null
      deferred?.reject(haltedError(entry))
    } else {
      scheduleRetry(entry)
    }
    refresh(entry)
  }
  /** Store trouble (disk full, read-only, busy, I/O): never skipped, always retried. */
  const storeFailure = (entry: Entry, error: unknown, step: string): void => {
    recordFailure(entry, error, unitPosition(entry), 'retry', step)
  }
  const recovered = (entry: Entry): void => {
    if (!entry.error) return
    logger.info('projection recovered', { name: entry.name, position: unitPosition(entry) })
    entry.error = undefined
    entry.attempts = 0
    entry.retryAt = 0
  }

  // ---- opening and rebuilding ----
  const closeQuietly = async (slot: ProjectionSlot | ProjectionBuild, discard: boolean): Promise<void> => {
    try {
      if (discard && 'discard' in slot) await slot.discard()
      else await slot.close()
    } catch (error) {
      logger.warn('could not close a projection slot', { name: slot.name, error: messageOf(error) })
    }
  }

  const openEntry = async (entry: Entry, knownHead?: number): Promise<void> => {
    try {
      entry.slot ??= await store.openSlot(entry.projection)
      const stored = await entry.slot.state()
      const head = knownHead ?? (await events.head())
      lastHead = Math.max(lastHead, head)
      const version = entry.projection.version
      if (stored === null) {
        await entry.slot.initialize({ version, logId: events.id })
        entry.position = 0
        entry.liveInitialized = true
        entry.opened = true
        // a fresh build from 0 also answers a rebuild that was asked for
        entry.pendingRebuild = null
        if (head > 0) beginRun(entry, null, 'new projection')
        else {
          entry.reachedHead = true
          // an empty log leaves nothing to replay: a rebuild that was asked for is complete
          const deferred = entry.rebuildDeferred
          entry.rebuildDeferred = null
          deferred?.resolve()
        }
      } else {
        entry.position = stored.position
        entry.liveInitialized = true
        entry.opened = true
        let reason: string | null = null
        if (stored.logId !== events.id) reason = `event log changed from ${stored.logId} to ${events.id}`
        else if (stored.position > head) reason = `position ${stored.position} is beyond the log head ${head}`
        else if (stored.version !== version) reason = `version changed from ${stored.version} to ${version}`
        entry.untrusted = stored.logId !== events.id || stored.position > head
        if (reason !== null) {
          logger.info('projection needs a rebuild', {
            name: entry.name,
            reason,
            storedVersion: stored.version,
            version,
            storedLogId: stored.logId,
            logId: events.id,
            storedPosition: stored.position,
            head,
          })
          entry.pendingRebuild = reason
        } else if (entry.rebuildDeferred && entry.pendingRebuild === null) {
          // a rebuild asked for was under way when the data had to be reopened (e.g. a swap that
          // replaced the data but failed after): begin it again, so rebuild() resolves
          entry.pendingRebuild = 'requested'
        } else if (stored.position >= head) {
          entry.reachedHead = true
        }
      }
      recovered(entry)
      if (entry.pendingRebuild !== null) await beginRebuild(entry)
      else refresh(entry)
    } catch (error) {
      if (isEskitError(error, 'PROJECTION_FAILED') && policy === 'stop') {
        recordFailure(entry, error, 0, 'stop', 'open')
      } else {
        storeFailure(entry, error, 'open')
      }
    }
  }

  const beginRun = (entry: Entry, build: ProjectionBuild | null, reason: string): void => {
    entry.run = { build, position: 0, startedAt: performance.now(), reason }
    entry.reachedHead = false
    entry.meter.reset(0)
    entry.lastProgressAt = 0
  }

  /** Starts the rebuild in `entry.pendingRebuild`; on failure the projection stays put and retries. */
  const beginRebuild = async (entry: Entry): Promise<void> => {
    const reason = entry.pendingRebuild ?? 'requested'
    try {
      if (entry.run?.build) {
        const replaced = entry.run.build
        entry.run = null
        await closeQuietly(replaced, true)
      }
      entry.run = null
      const init = { version: entry.projection.version, logId: events.id }
      const beside =
        store.capabilities.buildBeside &&
        store.beginBuild !== undefined &&
        entry.liveInitialized &&
        !entry.untrusted
      if (beside && store.beginBuild) {
        const build = await store.beginBuild(entry.projection)
        try {
          await build.initialize(init)
        } catch (error) {
          await closeQuietly(build, true)
          throw error
        }
        beginRun(entry, build, reason)
      } else {
        if (!entry.slot) throw new EskitError('INVALID_STATE', `projection ${entry.name} has no open slot`)
        await entry.slot.initialize(init)
        entry.position = 0
        entry.liveInitialized = true
        entry.untrusted = false
        beginRun(entry, null, reason)
      }
      entry.pendingRebuild = null
      entry.halted = false
      recovered(entry)
      logger.info('projection rebuilding', {
        name: entry.name,
        version: entry.projection.version,
        reason,
        beside,
        head: lastHead,
      })
      refresh(entry)
    } catch (error) {
      if (isEskitError(error, 'PROJECTION_FAILED') && policy === 'stop') {
        recordFailure(entry, error, 0, 'stop', 'rebuild')
      } else {
        storeFailure(entry, error, 'rebuild')
      }
    }
  }

  const completeRebuild = async (entry: Entry): Promise<void> => {
    const run = entry.run
    if (!run) return
    try {
      if (run.build) {
        const live = await run.build.swap()
        entry.slot = live
        entry.position = run.position
        entry.liveInitialized = true
      }
    } catch (error) {
      storeFailure(entry, error, 'swap')
      return
    }
    entry.run = null
    entry.reachedHead = entry.position >= lastHead
    const durationMs = Math.round(performance.now() - run.startedAt)
    entry.lastRebuild = { at: new Date().toISOString(), durationMs }
    refresh(entry)
    emit('progress', {
      name: entry.name,
      state: entry.state,
      position: entry.position,
      target: entry.position,
      eventsPerSecond: Math.round(entry.meter.perSecond()),
      etaMs: 0,
    })
    const info: RebuiltInfo = {
      name: entry.name,
      version: entry.projection.version,
      position: entry.position,
      durationMs,
      swapped: run.build !== null,
    }
    logger.info('projection rebuilt', { ...info, reason: run.reason })
    emit('rebuilt', info)
    const deferred = entry.rebuildDeferred
    entry.rebuildDeferred = null
    deferred?.resolve()
    checkWaiters()
  }

  // ---- batches ----
  const active = (entry: Entry, now: number): boolean =>
    entry.opened &&
    !entry.halted &&
    entry.pendingRebuild === null &&
    entry.retryAt <= now &&
    (entry.run?.build ?? entry.slot) !== null

  const unitSlot = (entry: Entry): ProjectionSlot => {
    const slot = entry.run?.build ?? entry.slot
    if (!slot) throw new EskitError('INVALID_STATE', `projection ${entry.name} has no open slot`)
    return slot
  }
  const setUnitPosition = (entry: Entry, position: number): void => {
    if (entry.run?.build) entry.run.position = position
    else {
      entry.position = position
      checkWaiters()
    }
  }

  /** After a committed step: progress, live/caught-up detection, rebuild completion. */
  const afterCommit = async (entry: Entry, headBefore: number, full: boolean): Promise<void> => {
    recovered(entry)
    const position = unitPosition(entry)
    entry.meter.add(position)
    const caughtUp = !full && position >= headBefore
    if (entry.run) {
      if (caughtUp) {
        await completeRebuild(entry)
        return
      }
      progress(entry, false)
    } else if (caughtUp) {
      entry.reachedHead = true
    } else {
      progress(entry, false)
    }
    refresh(entry)
  }

  const resync = async (entry: Entry, error: unknown): Promise<void> => {
    try {
      const stored = await unitSlot(entry).state()
      logger.warn('checkpoint conflict: continuing from the stored checkpoint', {
        name: entry.name,
        expected: unitPosition(entry),
        stored: stored?.position ?? null,
        error: messageOf(error),
      })
      if (stored === null) {
        entry.pendingRebuild = 'data vanished (checkpoint conflict)'
        await beginRebuild(entry)
        return
      }
      if (stored.position === unitPosition(entry)) {
        // the store reports a conflict although the checkpoint did not move: treat it as a store fault
        storeFailure(entry, error, 'commit')
        return
      }
      setUnitPosition(entry, stored.position)
      refresh(entry)
    } catch (failure) {
      storeFailure(entry, failure, 'resync')
    }
  }

  /** Handles a failed commit; returns nothing, the entry's state says what happened. */
  const commitFailed = async (entry: Entry, error: unknown): Promise<void> => {
    if (isEskitError(error, 'CHECKPOINT_CONFLICT')) await resync(entry, error)
    else storeFailure(entry, error, 'commit')
  }

  /** The batch failed inside apply: commit event by event to find the culprit, then apply the policy. */
  const isolate = async (
    entry: Entry,
    from: number,
    to: number,
    batch: readonly StoredEvent[],
    firstError: unknown,
    headBefore: number,
    full: boolean,
  ): Promise<void> => {
    const slot = unitSlot(entry)
    let position = from
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i] as StoredEvent
      let failure: unknown
      if (batch.length === 1) failure = firstError
      else {
        if (stopping()) return
        try {
          await slot.commit({ from: position, to: event.position, events: [event] })
          position = event.position
          setUnitPosition(entry, position)
          continue
        } catch (error) {
          failure = error
        }
      }
      if (!isEskitError(failure, 'PROJECTION_FAILED')) {
        await commitFailed(entry, failure)
        return
      }
      await applyFailed(entry, slot, position, event, failure)
      return
    }
    // every event passed on its own: the failure did not repeat; finish the batch
    if (stopping()) return
    try {
      await slot.commit({ from: position, to, events: [] })
      setUnitPosition(entry, to)
    } catch (error) {
      await commitFailed(entry, error)
      return
    }
    await afterCommit(entry, headBefore, full)
  }

  const applyFailed = async (
    entry: Entry,
    slot: ProjectionSlot,
    from: number,
    event: StoredEvent,
    error: EskitError,
  ): Promise<void> => {
    if (policy !== 'skip') {
      recordFailure(entry, error, event.position, policy, 'apply')
      return
    }
    const message = causeMessage(error)
    const parked: ParkedEvent = {
      position: event.position,
      streamId: event.streamId,
      type: event.type,
      error: message,
      attempts: 1,
      parkedAt: new Date().toISOString(),
      event,
    }
    try {
      await slot.commit({ from, to: event.position, events: [], parked: [parked] })
    } catch (failure) {
      await commitFailed(entry, failure)
      return
    }
    setUnitPosition(entry, event.position)
    logger.error('projection failed; event parked', {
      name: entry.name,
      position: event.position,
      type: event.type,
      streamId: event.streamId,
      policy: 'skip',
      error: message,
    })
    emit('error', {
      name: entry.name,
      error: asError(error),
      position: event.position,
      attempts: 1,
      policy: 'skip',
    })
    recovered(entry)
    refresh(entry)
  }

  const advance = async (
    entry: Entry,
    from: number,
    to: number,
    batch: readonly StoredEvent[],
    headBefore: number,
    full: boolean,
  ): Promise<void> => {
    let slot: ProjectionSlot
    try {
      slot = unitSlot(entry)
      await slot.commit({ from, to, events: batch })
    } catch (error) {
      if (isEskitError(error, 'PROJECTION_FAILED') && batch.length > 0) {
        await isolate(entry, from, to, batch, error, headBefore, full)
      } else {
        await commitFailed(entry, error)
      }
      return
    }
    setUnitPosition(entry, to)
    await afterCommit(entry, headBefore, full)
  }

  /**
   * One read for every unit at `from` (behaviour 12), then one commit per unit. With `next` (the
   * position of the next group up), the group stops there, so the two merge and share reads.
   */
  const runGroup = async (group: readonly Entry[], from: number, next: number | undefined): Promise<void> => {
    const headBefore = await events.head()
    lastHead = Math.max(lastHead, headBefore)
    let types: string[] | undefined
    if (group.every((entry) => entry.types !== null)) {
      const union = new Set<string>()
      for (const entry of group) for (const type of entry.types ?? []) union.add(type)
      types = [...union]
    }
    // frozen: one read is shared by the whole group, no projection may reorder it for the others
    const batch: readonly StoredEvent[] = Object.freeze(
      await events.readAll(
        types === undefined ? { after: from, limit: batchSize } : { after: from, limit: batchSize, types },
      ),
    )
    let full = batch.length >= batchSize
    const last = batch[batch.length - 1]
    let to = full && last ? last.position : Math.max(headBefore, last?.position ?? from)
    if (to <= from) return
    let shared: readonly StoredEvent[] = batch
    if (next !== undefined && to > next) {
      to = next
      shared = batch.filter((event) => event.position <= next)
      full = true // stopped short on purpose: not caught up
    }
    for (const entry of group) {
      if (stopping()) return
      if (!active(entry, Date.now()) || unitPosition(entry) !== from) continue
      const wanted = entry.types
      const subset =
        wanted === null || (types !== undefined && wanted.size === types.length)
          ? shared
          : shared.filter((event) => wanted.has(event.type))
      await advance(entry, from, to, subset, headBefore, full)
    }
  }

  /** Maintenance (opens, rebuild requests, lost data) then one batch per group of positions. */
  const pass = async (): Promise<boolean> => {
    wakePending = false
    let worked = false
    for (const entry of entries) {
      if (stopping()) return false
      if (entry.halted || entry.retryAt > Date.now()) continue
      if (!entry.opened) {
        await openEntry(entry)
        worked = true
        continue
      }
      const lost = checkLost(entry)
      if (lost === 'live') {
        await reopenLost(entry)
        worked = true
        continue
      }
      if (lost === 'build') {
        await restartLostBuild(entry)
        worked = true
        continue
      }
      if (entry.pendingRebuild !== null) {
        await beginRebuild(entry)
        worked = true
      }
    }
    if (stopping()) return false
    const head = await events.head()
    lastHead = Math.max(lastHead, head)
    const now = Date.now()
    const groups = new Map<number, Entry[]>()
    for (const entry of entries) {
      if (!active(entry, now)) continue
      const position = unitPosition(entry)
      if (position >= head) {
        if (entry.run) {
          await completeRebuild(entry)
          worked = true
        } else if (!entry.reachedHead) {
          entry.reachedHead = true
          refresh(entry)
        }
        continue
      }
      const group = groups.get(position)
      if (group) group.push(entry)
      else groups.set(position, [entry])
    }
    const positions = [...groups.keys()].sort((a, b) => a - b)
    // units that reached the next group's position join it in this same pass
    let carried: Entry[] = []
    for (let i = 0; i < positions.length; i++) {
      if (stopping()) break
      const position = positions[i] as number
      const next = positions[i + 1]
      const group = [...carried, ...(groups.get(position) ?? [])]
      await runGroup(group, position, next)
      worked = true
      carried = group.filter((entry) => active(entry, Date.now()) && unitPosition(entry) === next)
      // Stores like better-sqlite3 work synchronously, so without a macrotask turn between batches
      // a long catch-up would starve the process's I/O (HTTP requests would wait for the rebuild).
      await yieldToEventLoop()
    }
    return worked
  }

  /** Which data vanished underneath, if any: the live data or the build beside it. */
  const checkLost = (entry: Entry): 'live' | 'build' | null => {
    try {
      if (entry.slot?.check?.() === 'lost') return 'live'
      if (entry.run?.build?.check?.() === 'lost') return 'build'
    } catch (error) {
      logger.warn('projection slot check failed', { name: entry.name, error: messageOf(error) })
    }
    return null
  }

  /** Only the build beside vanished: the live data serves on untouched and the build begins again. */
  const restartLostBuild = async (entry: Entry): Promise<void> => {
    logger.warn('the build of the projection was lost; beginning it again', {
      name: entry.name,
      position: entry.run?.position,
    })
    entry.pendingRebuild = entry.run?.reason ?? 'build lost'
    await beginRebuild(entry)
  }

  /** The live data (or the build) vanished underneath: rebuild in place from an empty slot. */
  const reopenLost = async (entry: Entry): Promise<void> => {
    logger.warn('projection data was lost; rebuilding it', { name: entry.name, position: entry.position })
    if (entry.run?.build) await closeQuietly(entry.run.build, true)
    entry.run = null
    if (entry.slot) await closeQuietly(entry.slot, false)
    entry.slot = null
    entry.opened = false
    entry.liveInitialized = false
    entry.position = 0
    await openEntry(entry)
  }

  const loop = async (): Promise<void> => {
    let failures = 0
    while (!stopping()) {
      let worked = false
      try {
        worked = await pass()
        failures = 0
      } catch (error) {
        // the event log itself failed (head/readAll): back off, keep the collector alive
        failures += 1
        const delay = Math.min(retryInitialMs * 2 ** (failures - 1), retryMaxMs, MAX_TIMER_MS)
        logger.error('collector could not read the event log', { error: messageOf(error), retryInMs: delay })
        if (stopping()) break
        const timer = setTimeout(wake, delay)
        wakePending = false
        await idle()
        clearTimeout(timer)
        continue
      }
      if (!worked) await idle()
    }
  }

  const onPoll = (): void => {
    wake()
    if (!store.takeRequests || takingRequests || stopping()) return
    const take = store.takeRequests.bind(store)
    takingRequests = true
    // a store that throws instead of rejecting must not throw out of the timer (uncaught)
    new Promise<StoreRequest[]>((resolve) => resolve(take()))
      .then((requests) => {
        for (const request of requests) {
          if (stopping()) return
          if (request.type !== 'rebuild' || !byName.has(request.name)) {
            logger.warn('ignoring a store request for an unknown projection', { ...request })
            continue
          }
          logger.info('rebuild requested from outside the process', { name: request.name, id: request.id })
          collector.rebuild(request.name).catch((error: unknown) => {
            logger.warn('requested rebuild did not complete', { name: request.name, error: messageOf(error) })
          })
        }
      })
      .catch((error: unknown) => {
        if (!stopping()) logger.warn('could not take store requests', { error: messageOf(error) })
      })
      .finally(() => {
        takingRequests = false
      })
  }

  const assertNotClosed = (): void => {
    if (phase === 'stopping' || phase === 'stopped')
      throw new EskitError('CLOSED', 'the collector is stopped')
  }
  const entryOf = (name: string): Entry => {
    assertProjectionName(name)
    const entry = byName.get(name)
    if (!entry)
      throw new EskitError('NOT_FOUND', `no projection named ${JSON.stringify(name)}`, { details: { name } })
    return entry
  }

  const doStart = async (): Promise<void> => {
    try {
      await store.open({ logId: events.id, logger })
    } catch (error) {
      phase = 'new'
      throw error
    }
    storeOpened = true
    let head: number
    try {
      head = await events.head()
    } catch (error) {
      storeOpened = false
      phase = 'new'
      await store.close().catch(() => {})
      throw error
    }
    lastHead = head
    for (const entry of entries) await openEntry(entry, head)
    unsubscribe = events.onAppend((appended) => {
      if (appended > lastHead) lastHead = appended
      wake()
    })
    pollTimer = setInterval(onPoll, Math.min(pollIntervalMs, MAX_TIMER_MS))
    if (phase === 'starting') phase = 'started'
    publish(true)
    loopPromise = loop()
  }

  const doStop = async (): Promise<void> => {
    const wasStarted = phase !== 'new'
    phase = 'stopping'
    if (startPromise) await startPromise.catch(() => {})
    wake()
    if (loopPromise) await loopPromise
    unsubscribe?.()
    unsubscribe = undefined
    if (pollTimer) clearInterval(pollTimer)
    if (publishTimer) clearTimeout(publishTimer)
    publishTimer = undefined
    const closed = new EskitError('CLOSED', 'the collector was stopped')
    for (const waiter of waiters) {
      if (waiter.timer) clearTimeout(waiter.timer)
      waiter.reject(closed)
    }
    waiters.clear()
    for (const entry of entries) {
      if (entry.retryTimer) clearTimeout(entry.retryTimer)
      entry.retryTimer = undefined
      const deferred = entry.rebuildDeferred
      entry.rebuildDeferred = null
      deferred?.reject(closed)
    }
    phase = 'stopped'
    for (const entry of entries) entry.state = 'stopped'
    if (!wasStarted || !storeOpened) return
    publish(true)
    for (const entry of entries) {
      // a build that did not finish is thrown away: the next start begins it again
      if (entry.run?.build) await closeQuietly(entry.run.build, true)
      if (entry.slot) await closeQuietly(entry.slot, false)
      entry.slot = null
    }
    storeOpened = false
    await store.close()
  }

  const collector: Collector = {
    store,
    events,
    add(projection: Projection<any>): Collector {
      assertNotClosed()
      if (phase !== 'new') throw new EskitError('INVALID_STATE', 'add projections before start()')
      const checked = validateProjection(projection)
      if (byName.has(checked.name)) {
        throw new EskitError('DUPLICATE_NAME', `a projection named ${checked.name} was already added`, {
          details: { name: checked.name },
        })
      }
      const entry: Entry = {
        projection: checked,
        name: checked.name,
        types: checked.eventTypes === undefined ? null : new Set(checked.eventTypes),
        state: 'starting',
        slot: null,
        position: 0,
        opened: false,
        liveInitialized: false,
        reachedHead: false,
        run: null,
        pendingRebuild: null,
        untrusted: false,
        rebuildDeferred: null,
        error: undefined,
        attempts: 0,
        retryAt: 0,
        retryTimer: undefined,
        halted: false,
        meter: createRateMeter(),
        lastProgressAt: 0,
        lastRebuild: undefined,
      }
      entries.push(entry)
      byName.set(entry.name, entry)
      return collector
    },
    start(): Promise<void> {
      if (phase === 'stopping' || phase === 'stopped') {
        return Promise.reject(new EskitError('CLOSED', 'the collector is stopped'))
      }
      if (phase !== 'new')
        return Promise.reject(new EskitError('INVALID_STATE', 'the collector is already started'))
      phase = 'starting'
      startPromise = doStart()
      return startPromise
    },
    stop(): Promise<void> {
      stopPromise ??= doStop()
      return stopPromise
    },
    status,
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
        const waited = options.projections === undefined ? [...entries] : options.projections.map(entryOf)
        const halted = waited.find((entry) => entry.halted)
        if (halted) throw haltedError(halted)
        if (waited.every((entry) => entry.position >= position)) return Promise.resolve()
        return new Promise<void>((resolve, reject) => {
          const waiter: Waiter = { entries: waited, position, timeoutMs, resolve, reject, timer: undefined }
          waiter.timer = setTimeout(
            () => {
              waiters.delete(waiter)
              const laggards = waited
                .filter((entry) => entry.position < position)
                .map(
                  (entry) =>
                    `${entry.name} at ${entry.position} (${entry.state}${entry.error ? `: ${entry.error.message}` : ''})`,
                )
              reject(
                new EskitError(
                  'TIMEOUT',
                  `waitFor(${position}) timed out after ${timeoutMs} ms: ${laggards.join(', ')}`,
                  {
                    details: {
                      position,
                      timeoutMs,
                      laggards: waited
                        .filter((entry) => entry.position < position)
                        .map((entry) => ({ name: entry.name, position: entry.position, state: entry.state })),
                    },
                  },
                ),
              )
            },
            Math.min(timeoutMs, MAX_TIMER_MS),
          )
          waiters.add(waiter)
        })
      } catch (error) {
        return Promise.reject(error)
      }
    },
    rebuild(name: string): Promise<void> {
      try {
        assertNotClosed()
        const entry = entryOf(name)
        if (phase !== 'started') throw new EskitError('INVALID_STATE', 'start the collector before rebuild()')
        if (entry.rebuildDeferred) return entry.rebuildDeferred.promise
        const deferred = createDeferred()
        entry.rebuildDeferred = deferred
        if (!entry.run && entry.pendingRebuild === null) entry.pendingRebuild = 'requested'
        // a failed or halted projection starts its rebuild now rather than after its backoff
        entry.halted = false
        entry.retryAt = 0
        if (entry.retryTimer) clearTimeout(entry.retryTimer)
        entry.retryTimer = undefined
        refresh(entry)
        wake()
        return deferred.promise
      } catch (error) {
        return Promise.reject(error)
      }
    },
    on(event: CollectorEvent, listener: (info: any) => void): () => void {
      if (event !== 'progress' && event !== 'error' && event !== 'rebuilt') {
        throw new EskitError('INVALID_ARGUMENT', `unknown collector event ${JSON.stringify(event)}`)
      }
      if (typeof listener !== 'function')
        throw new EskitError('INVALID_ARGUMENT', 'on() needs a listener function')
      let set = listeners.get(event)
      if (!set) {
        set = new Set()
        listeners.set(event, set)
      }
      // wrapped so the same function can be subscribed twice and unsubscribed once each
      const wrapped = (info: unknown): void => listener(info)
      set.add(wrapped)
      return () => {
        set.delete(wrapped)
      }
    },
    async parked(name: string): Promise<ParkedEvent[]> {
      assertNotClosed()
      const entry = entryOf(name)
      if (!entry.slot) return []
      return entry.slot.parked()
    },
    reader<Conn = unknown>(name: string): Conn {
      assertNotClosed()
      entryOf(name)
      return store.reader(name) as Conn
    },
  }
  return collector
}

interface Settings {
  events: CollectorConfig['events']
  store: CollectorConfig['store']
  logger: Logger
  batchSize: number
  policy: Policy
  pollIntervalMs: number
  retryInitialMs: number
  retryMaxMs: number
}

function validateConfig(config: CollectorConfig): Settings {
  const fail = (message: string): never => {
    throw new EskitError('INVALID_ARGUMENT', `createCollector: ${message}`)
  }
  if (typeof config !== 'object' || config === null) fail('config must be an object')
  const { events, store } = config
  if (
    typeof events !== 'object' ||
    events === null ||
    typeof events.readAll !== 'function' ||
    typeof events.head !== 'function' ||
    typeof events.onAppend !== 'function' ||
    typeof events.id !== 'string'
  ) {
    fail('events must be an EventStore')
  }
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.open !== 'function' ||
    typeof store.openSlot !== 'function' ||
    typeof store.reader !== 'function' ||
    typeof store.close !== 'function' ||
    typeof store.capabilities !== 'object'
  ) {
    fail('store must be a ProjectionStore')
  }
  const batchSize = config.batchSize ?? DEFAULT_BATCH_SIZE
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    fail(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}`)
  }
  const policy = config.onError ?? 'retry'
  if (policy !== 'retry' && policy !== 'skip' && policy !== 'stop')
    fail(`onError must be 'retry', 'skip' or 'stop'`)
  const pollIntervalMs = config.pollIntervalMs ?? DEFAULT_POLL_MS
  if (typeof pollIntervalMs !== 'number' || !(pollIntervalMs >= 1))
    fail('pollIntervalMs must be a number >= 1')
  const retryInitialMs = config.retry?.initialDelayMs ?? DEFAULT_RETRY_INITIAL_MS
  const retryMaxMs = config.retry?.maxDelayMs ?? DEFAULT_RETRY_MAX_MS
  if (typeof retryInitialMs !== 'number' || !(retryInitialMs >= 0))
    fail('retry.initialDelayMs must be a number >= 0')
  if (typeof retryMaxMs !== 'number' || !(retryMaxMs >= retryInitialMs)) {
    fail('retry.maxDelayMs must be a number >= retry.initialDelayMs')
  }
  const logger = config.logger ?? silentLogger
  if (
    ['debug', 'info', 'warn', 'error'].some(
      (level) => typeof (logger as unknown as Record<string, unknown>)[level] !== 'function',
    )
  ) {
    fail('logger must have debug, info, warn and error methods')
  }
  return { events, store, logger, batchSize, policy, pollIntervalMs, retryInitialMs, retryMaxMs }
}

function validateProjection(projection: Projection<unknown>): Projection<unknown> {
  if (typeof projection !== 'object' || projection === null) {
    throw new EskitError('INVALID_ARGUMENT', 'add() needs a projection object')
  }
  assertProjectionName(projection.name)
  const fail = (message: string): never => {
    throw new EskitError('INVALID_ARGUMENT', `projection ${projection.name}: ${message}`, {
      details: { name: projection.name },
    })
  }
  if (typeof projection.version !== 'string' || projection.version.length === 0)
    fail('version must be a non-empty string')
  if (typeof projection.setup !== 'function') fail('setup must be a function')
  if (typeof projection.apply !== 'function') fail('apply must be a function')
  const types = projection.eventTypes
  if (types !== undefined) {
    if (!Array.isArray(types) || types.some((type) => typeof type !== 'string' || type.length === 0)) {
      fail('eventTypes must be an array of non-empty strings')
    }
  }
  return projection
}

function createDeferred(): Deferred {
  let resolve!: () => void
  let reject!: (error: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The projection's own message when a store wrapped it (`PROJECTION_FAILED` keeps it as `cause`). */
function causeMessage(error: unknown): string {
  if (isEskitError(error, 'PROJECTION_FAILED') && error.cause !== undefined)
    return describeThrown(error.cause)
  return describeThrown(error)
}

function describeThrown(value: unknown): string {
  if (value instanceof Error) return value.message
  if (typeof value === 'string') return value
  try {
    const json = JSON.stringify(value)
    if (json !== undefined) return json
  } catch {
    // not serialisable: fall back to String
  }
  return String(value)
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describeThrown(error))
}

/** One turn of the event loop (timers, I/O) between batches. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

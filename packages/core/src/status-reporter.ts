import type { TimerHandle } from './clock.js'
import { type CollectorContext, isStopping } from './collector-context.js'
import type { CollectorListeners } from './collector-listeners.js'
import type { ProjectionStatus } from './collector-types.js'
import { messageOf } from './error-text.js'
import { type ProjectionUnit, publicState, runOf, unitPosition } from './projection-unit.js'

const PROGRESS_EVERY_MS = 200
const PUBLISH_EVERY_MS = 250

/** Status of every projection, its changes published to the store and progress to listeners. */
export interface StatusReporter {
  status(): ProjectionStatus[]
  /**
   * Re-derives a unit's public state; logs and publishes a change at once, anything else throttled
   * (`force`: publish now even when the state is unchanged, e.g. a new failure).
   */
  refresh(unit: ProjectionUnit, force?: boolean): void
  /** Publishes the status to the store (`force`: now, not throttled). */
  publish(force: boolean): void
  /** Emits rebuild progress (`force`: now, not throttled). */
  progress(unit: ProjectionUnit, force: boolean): void
  rebuildProgress(unit: ProjectionUnit): NonNullable<ProjectionStatus['rebuild']>
  /** Cancels a trailing publish. */
  close(): void
}

export function createStatusReporter(
  context: CollectorContext,
  listeners: CollectorListeners,
): StatusReporter {
  const { store, logger, clock } = context.settings
  let lastPublishAt = Number.NEGATIVE_INFINITY
  let publishTimer: TimerHandle | undefined

  const rebuildProgress = (unit: ProjectionUnit): NonNullable<ProjectionStatus['rebuild']> => {
    const position = unitPosition(unit)
    const target = Math.max(context.head, position)
    const eventsPerSecond = Math.round(unit.meter.perSecond())
    const etaMs = eventsPerSecond > 0 ? Math.round(((target - position) / eventsPerSecond) * 1000) : 0
    return { position, target, eventsPerSecond, etaMs }
  }

  const statusOf = (unit: ProjectionUnit): ProjectionStatus => {
    const status: ProjectionStatus = {
      name: unit.name,
      version: unit.projection.version,
      state: unit.state,
      position: unit.position,
      head: context.head,
      lag: Math.max(0, context.head - unit.position),
    }
    if (unit.failure) {
      const { message, position, attempts } = unit.failure
      status.error = { message, position, attempts }
    }
    const run = runOf(unit)
    if (run && unit.state !== 'stopped') status.rebuild = { ...rebuildProgress(unit), reason: run.reason }
    const log = context.log
    if (log.phase === 'unreachable' && unit.state !== 'stopped') {
      status.logUnreachable = {
        since: log.since,
        error: log.error,
        ...(log.code === undefined ? {} : { code: log.code }),
        attempts: log.attempts,
      }
    }
    if (unit.lastRebuild) status.lastRebuild = { ...unit.lastRebuild }
    return status
  }

  const status = (): ProjectionStatus[] => context.units.map(statusOf)

  const publish = (force: boolean): void => {
    // start() publishes once when every projection is open, not once per projection
    if (!store.publishStatus || !context.storeOpened || context.phase === 'starting') return
    const now = clock.now()
    if (!force && now - lastPublishAt < PUBLISH_EVERY_MS) {
      // trailing publish so the last change is not lost
      publishTimer ??= clock.setTimeout(
        () => {
          publishTimer = undefined
          if (!isStopping(context)) publish(true)
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

  return {
    status,
    publish,
    rebuildProgress,
    refresh(unit, force = false) {
      const next = publicState(unit, context.phase === 'stopped')
      if (next === unit.state) {
        publish(force)
        return
      }
      logger.debug('projection state changed', { name: unit.name, from: unit.state, to: next })
      unit.state = next
      publish(true)
    },
    progress(unit, force) {
      const now = clock.now()
      if (!force && now - unit.lastProgressAt < PROGRESS_EVERY_MS) return
      unit.lastProgressAt = now
      const { position, target, eventsPerSecond, etaMs } = rebuildProgress(unit)
      listeners.emit('progress', {
        name: unit.name,
        state: unit.state,
        position,
        target,
        eventsPerSecond,
        etaMs,
      })
    },
    close() {
      if (publishTimer !== undefined) clock.clearTimeout(publishTimer)
      publishTimer = undefined
    },
  }
}

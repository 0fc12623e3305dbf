import type { BuildWorkers } from './build-workers.js'
import type { CollectorContext } from './collector-context.js'
import type { CollectorListeners } from './collector-listeners.js'
import type { RebuiltInfo } from './collector-types.js'
import { messageOf } from './error-text.js'
import { EskitError } from './eskit-error.js'
import type { FailurePolicy } from './failure-policy.js'
import type { ProjectionBuild, ProjectionSlot } from './projection-store.js'
import { finishRun, type ProjectionUnit, runOf, startRun } from './projection-unit.js'
import type { StatusReporter } from './status-reporter.js'
import type { WaitRegistry } from './wait-registry.js'

/** Rebuilding one projection: beside the live data and swapped in, or in place. */
export interface Rebuilder {
  /**
   * Begins the rebuild the unit is pending (a build beside when the store can and the live data is
   * trusted, else in place); `replaced` is a build beside that this one replaces (thrown away). On
   * failure the unit stays pending and is retried.
   */
  begin(unit: ProjectionUnit, replaced?: ProjectionBuild | null): Promise<void>
  /** The run reached the head: swaps a build beside in, reports, resolves `rebuild()`. */
  complete(unit: ProjectionUnit): Promise<void>
  /** Closes a slot (or throws a build away), logging instead of throwing. */
  closeQuietly(slot: ProjectionSlot | ProjectionBuild, discard: boolean): Promise<void>
}

export function createRebuilder(
  context: CollectorContext,
  parts: {
    listeners: CollectorListeners
    reporter: StatusReporter
    failures: FailurePolicy
    waits: WaitRegistry
    workers: BuildWorkers
  },
): Rebuilder {
  const { events, store, logger, clock } = context.settings
  const { listeners, reporter, failures, waits, workers } = parts

  const closeQuietly = async (slot: ProjectionSlot | ProjectionBuild, discard: boolean): Promise<void> => {
    try {
      if ('discard' in slot) await workers.recall(slot)
      if (discard && 'discard' in slot) await slot.discard()
      else await slot.close()
    } catch (error) {
      logger.warn('could not close a projection slot', { name: slot.name, error: messageOf(error) })
    }
  }

  const begin = async (unit: ProjectionUnit, replaced: ProjectionBuild | null = null): Promise<void> => {
    const phase = unit.phase
    const reason = phase.kind === 'pending-rebuild' ? phase.reason : 'requested'
    const untrusted = phase.kind === 'pending-rebuild' && phase.untrusted
    try {
      if (replaced) await closeQuietly(replaced, true)
      const init = { version: unit.projection.version, logId: events.id }
      const beside = store.capabilities.buildBeside && store.beginBuild !== undefined && !untrusted
      if (beside && store.beginBuild) {
        const build = await store.beginBuild(unit.projection)
        try {
          await build.initialize(init)
        } catch (error) {
          await closeQuietly(build, true)
          throw error
        }
        startRun(unit, build, reason, clock.now())
      } else {
        if (!unit.slot) throw new EskitError('INVALID_STATE', `projection ${unit.name} has no open slot`)
        await unit.slot.initialize(init)
        startRun(unit, null, reason, clock.now())
      }
      failures.recovered(unit)
      logger.info('projection rebuilding', {
        name: unit.name,
        version: unit.projection.version,
        reason,
        beside,
        head: context.head,
      })
      reporter.refresh(unit)
    } catch (error) {
      failures.setupFailure(unit, error, 'rebuild')
    }
  }

  const complete = async (unit: ProjectionUnit): Promise<void> => {
    const run = runOf(unit)
    if (!run) return
    try {
      if (run.build) {
        const live = await run.build.swap()
        unit.slot = live
        unit.position = run.position
      }
    } catch (error) {
      failures.storeFailure(unit, error, 'swap')
      return
    }
    finishRun(unit, context.head)
    const durationMs = Math.round(clock.now() - run.startedAt)
    unit.lastRebuild = { at: new Date(clock.now()).toISOString(), durationMs }
    reporter.refresh(unit)
    listeners.emit('progress', {
      name: unit.name,
      state: unit.state,
      position: unit.position,
      target: unit.position,
      eventsPerSecond: Math.round(unit.meter.perSecond()),
      etaMs: 0,
    })
    const info: RebuiltInfo = {
      name: unit.name,
      version: unit.projection.version,
      position: unit.position,
      durationMs,
      swapped: run.build !== null,
    }
    logger.info('projection rebuilt', { ...info, reason: run.reason })
    listeners.emit('rebuilt', info)
    const deferred = unit.rebuildDeferred
    unit.rebuildDeferred = null
    deferred?.resolve()
    waits.check()
  }

  return { begin, complete, closeQuietly }
}

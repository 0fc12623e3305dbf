import type { BuildWorkers } from './build-workers.js'
import { type CollectorContext, observeHead } from './collector-context.js'
import { messageOf } from './error-text.js'
import type { FailurePolicy } from './failure-policy.js'
import {
  buildOf,
  isHeld,
  isLent,
  isOpened,
  loseData,
  openedNeedingRebuild,
  openedServing,
  type ProjectionUnit,
  pendingRebuildOf,
  requestRebuild,
  runOf,
  startRun,
} from './projection-unit.js'
import type { Rebuilder } from './rebuild.js'
import type { StatusReporter } from './status-reporter.js'
import type { WaitRegistry } from './wait-registry.js'

/** Opening a projection's data and deciding whether to trust it; recovering data that vanished. */
export interface UnitOpener {
  /** Opens the unit's slot and decides: serve, catch up, or rebuild (behaviour 3). */
  open(unit: ProjectionUnit, knownHead?: number): Promise<void>
  /** Maintenance before a pass's batches: open, recover lost data, begin a pending rebuild. */
  maintain(unit: ProjectionUnit): Promise<boolean>
}

export function createUnitOpener(
  context: CollectorContext,
  parts: {
    reporter: StatusReporter
    failures: FailurePolicy
    rebuilder: Rebuilder
    waits: WaitRegistry
    workers: BuildWorkers
  },
): UnitOpener {
  const { events, store, logger, clock } = context.settings
  const { reporter, failures, rebuilder, waits, workers } = parts

  /** `emptyReason`: why a rebuild from an empty slot runs (a new projection, or lost data). */
  const open = async (
    unit: ProjectionUnit,
    knownHead?: number,
    emptyReason = 'new projection',
  ): Promise<void> => {
    try {
      unit.slot ??= await store.openSlot(unit.projection)
      const stored = await unit.slot.state()
      const head = knownHead ?? (await events.head())
      observeHead(context, head)
      const version = unit.projection.version
      if (stored === null) {
        await unit.slot.initialize({ version, logId: events.id })
        // a fresh build from 0 also answers a rebuild that was asked for; one a worker can take is
        // built beside (the empty live data serves meanwhile), the others in place
        if (head > 0 && workers.canLend(unit)) openedNeedingRebuild(unit, 0, emptyReason, false)
        else if (head > 0) startRun(unit, null, emptyReason, clock.now())
        else {
          openedServing(unit, 0, true)
          // an empty log leaves nothing to replay: a rebuild that was asked for is complete
          const deferred = unit.rebuildDeferred
          unit.rebuildDeferred = null
          deferred?.resolve()
        }
      } else {
        let reason: string | null = null
        if (stored.logId !== events.id) reason = `event log changed from ${stored.logId} to ${events.id}`
        else if (stored.position > head) reason = `position ${stored.position} is beyond the log head ${head}`
        else if (stored.version !== version) reason = `version changed from ${stored.version} to ${version}`
        const requested = pendingRebuildOf(unit)
        if (reason !== null) {
          logger.info('projection needs a rebuild', {
            name: unit.name,
            reason,
            storedVersion: stored.version,
            version,
            storedLogId: stored.logId,
            logId: events.id,
            storedPosition: stored.position,
            head,
          })
          const untrusted = stored.logId !== events.id || stored.position > head
          openedNeedingRebuild(unit, stored.position, reason, untrusted)
        } else if (requested === null && stored.position === 0 && head > 0 && workers.canLend(unit)) {
          // nothing of the log applied yet (e.g. a first build stopped before its swap): built
          // beside by a worker rather than caught up on the main thread
          openedNeedingRebuild(unit, 0, emptyReason, false)
        } else if (requested !== null) {
          openedNeedingRebuild(unit, stored.position, requested, false)
        } else if (unit.rebuildDeferred) {
          // a rebuild asked for was under way when the data had to be reopened (e.g. a swap that
          // replaced the data but failed after): begin it again, so rebuild() resolves
          openedNeedingRebuild(unit, stored.position, 'requested', false)
        } else {
          openedServing(unit, stored.position, stored.position >= head)
        }
      }
      failures.recovered(unit)
      if (unit.phase.kind === 'pending-rebuild') await rebuilder.begin(unit)
      else reporter.refresh(unit)
      // The opened data may already hold what a waitFor (made before start() or while the open
      // failed) asks for, and no batch will move the position to wake it when nothing is left to
      // apply. Data the log does not explain answers no waitFor (behaviour 3).
      if (!(unit.phase.kind === 'pending-rebuild' && unit.phase.untrusted)) waits.check()
    } catch (error) {
      failures.setupFailure(unit, error, 'open')
    }
  }

  /** Which data vanished underneath, if any: the live data or the build beside it. */
  const checkLost = (unit: ProjectionUnit): 'live' | 'build' | null => {
    try {
      if (unit.slot?.check?.() === 'lost') return 'live'
      // a build lent to a worker is not this thread's to check until it comes back
      if (!isLent(unit) && buildOf(unit)?.check?.() === 'lost') return 'build'
    } catch (error) {
      logger.warn('projection slot check failed', { name: unit.name, error: messageOf(error) })
    }
    return null
  }

  /** Only the build beside vanished: the live data serves on untouched and the build begins again. */
  const restartLostBuild = async (unit: ProjectionUnit): Promise<void> => {
    const run = runOf(unit)
    logger.warn('the build of the projection was lost; beginning it again', {
      name: unit.name,
      position: run?.position,
    })
    const replaced = buildOf(unit)
    requestRebuild(unit, run?.reason ?? 'build lost', true)
    await rebuilder.begin(unit, replaced)
  }

  /** The live data vanished underneath: reopen it, so it is rebuilt from an empty slot. */
  const reopenLost = async (unit: ProjectionUnit): Promise<void> => {
    logger.warn('projection data was lost; rebuilding it', { name: unit.name, position: unit.position })
    const build = buildOf(unit)
    const slot = unit.slot
    loseData(unit)
    if (build) await rebuilder.closeQuietly(build, true)
    if (slot) await rebuilder.closeQuietly(slot, false)
    await open(unit, undefined, 'its data was lost or damaged')
  }

  return {
    open,
    async maintain(unit) {
      if (isHeld(unit, clock.now())) return false
      if (!isOpened(unit)) {
        await open(unit)
        return true
      }
      const lost = checkLost(unit)
      if (lost === 'live') {
        await reopenLost(unit)
        return true
      }
      if (lost === 'build') {
        await restartLostBuild(unit)
        return true
      }
      if (unit.phase.kind === 'pending-rebuild') {
        await rebuilder.begin(unit)
        return true
      }
      return false
    },
  }
}

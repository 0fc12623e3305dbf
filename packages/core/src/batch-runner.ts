import { type CollectorContext, isStopping, observeHead } from './collector-context.js'
import { messageOf } from './error-text.js'
import { EskitError, isEskitError } from './eskit-error.js'
import type { StoredEvent } from './event.js'
import type { FailurePolicy } from './failure-policy.js'
import type { ProjectionSlot } from './projection-store.js'
import {
  buildOf,
  isActive,
  type ProjectionUnit,
  reachHead,
  requestRebuild,
  runOf,
  unitPosition,
  workingSlot,
} from './projection-unit.js'
import { createReadAhead } from './read-ahead.js'
import type { Rebuilder } from './rebuild.js'
import type { StatusReporter } from './status-reporter.js'
import type { WaitRegistry } from './wait-registry.js'

/** Runs the batches of one pass: one shared read per group of units at a position, one commit each. */
export interface BatchRunner {
  /** One batch for every active unit behind the head; returns whether anything was done. */
  runBatches(): Promise<boolean>
}

export function createBatchRunner(
  context: CollectorContext,
  parts: { reporter: StatusReporter; failures: FailurePolicy; rebuilder: Rebuilder; waits: WaitRegistry },
): BatchRunner {
  const { events, logger, clock, batchSize } = context.settings
  const { reporter, failures, rebuilder, waits } = parts
  const stopping = (): boolean => isStopping(context)
  const reads = createReadAhead(events, batchSize)
  const active = (unit: ProjectionUnit): boolean => isActive(unit, clock.now())

  const slotOf = (unit: ProjectionUnit): ProjectionSlot => {
    const slot = workingSlot(unit)
    if (!slot) throw new EskitError('INVALID_STATE', `projection ${unit.name} has no open slot`)
    return slot
  }
  const setUnitPosition = (unit: ProjectionUnit, position: number): void => {
    const run = runOf(unit)
    if (run?.build) run.position = position
    else {
      unit.position = position
      waits.check()
    }
  }

  /** After a committed step: progress, live/caught-up detection, rebuild completion. */
  const afterCommit = async (unit: ProjectionUnit, headBefore: number): Promise<void> => {
    failures.recovered(unit)
    const position = unitPosition(unit)
    unit.meter.add(position)
    // The head read before the batch is reached: the rebuild is over now, also when the batch was
    // full, so a waitFor(head) that this commit resolved never sees a rebuild still running.
    const caughtUp = position >= headBefore
    const run = runOf(unit)
    if (run) {
      // A build beside is done only once it is not behind the live data it replaces: a head read
      // earlier (a read ahead) may be older than the position the live data had reached.
      if (caughtUp && (!run.build || position >= unit.position)) {
        await rebuilder.complete(unit)
        return
      }
      reporter.progress(unit, false)
    } else if (caughtUp) {
      reachHead(unit)
    } else {
      reporter.progress(unit, false)
    }
    reporter.refresh(unit)
  }

  const resync = async (unit: ProjectionUnit, error: unknown): Promise<void> => {
    try {
      const stored = await slotOf(unit).state()
      logger.warn('checkpoint conflict: continuing from the stored checkpoint', {
        name: unit.name,
        expected: unitPosition(unit),
        stored: stored?.position ?? null,
        error: messageOf(error),
      })
      if (stored === null) {
        const replaced = buildOf(unit)
        requestRebuild(unit, 'data vanished (checkpoint conflict)', true)
        await rebuilder.begin(unit, replaced)
        return
      }
      if (stored.position === unitPosition(unit)) {
        // the store reports a conflict although the checkpoint did not move: treat it as a store fault
        failures.storeFailure(unit, error, 'commit')
        return
      }
      setUnitPosition(unit, stored.position)
      reporter.refresh(unit)
    } catch (failure) {
      failures.storeFailure(unit, failure, 'resync')
    }
  }

  /** Handles a failed commit; the unit's phase and failure say what happened. */
  const commitFailed = async (unit: ProjectionUnit, error: unknown): Promise<void> => {
    if (isEskitError(error, 'CHECKPOINT_CONFLICT')) await resync(unit, error)
    else failures.storeFailure(unit, error, 'commit')
  }

  /** The batch failed inside apply: commit event by event to find the culprit, then apply the policy. */
  const isolate = async (
    unit: ProjectionUnit,
    from: number,
    to: number,
    batch: readonly StoredEvent[],
    firstError: unknown,
    headBefore: number,
  ): Promise<void> => {
    const slot = slotOf(unit)
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
          setUnitPosition(unit, position)
          continue
        } catch (error) {
          failure = error
        }
      }
      if (!isEskitError(failure, 'PROJECTION_FAILED')) {
        await commitFailed(unit, failure)
        return
      }
      const parkFrom = position
      await failures.applyFailure(unit, event, failure as EskitError, async (parked) => {
        try {
          await slot.commit({ from: parkFrom, to: event.position, events: [], parked: [parked] })
        } catch (error) {
          await commitFailed(unit, error)
          return false
        }
        setUnitPosition(unit, event.position)
        return true
      })
      return
    }
    // every event passed on its own: the failure did not repeat; finish the batch
    if (stopping()) return
    try {
      await slot.commit({ from: position, to, events: [] })
      setUnitPosition(unit, to)
    } catch (error) {
      await commitFailed(unit, error)
      return
    }
    await afterCommit(unit, headBefore)
  }

  const advance = async (
    unit: ProjectionUnit,
    from: number,
    to: number,
    batch: readonly StoredEvent[],
    headBefore: number,
  ): Promise<void> => {
    try {
      await slotOf(unit).commit({ from, to, events: batch })
    } catch (error) {
      if (isEskitError(error, 'PROJECTION_FAILED') && batch.length > 0) {
        await isolate(unit, from, to, batch, error, headBefore)
      } else {
        await commitFailed(unit, error)
      }
      return
    }
    setUnitPosition(unit, to)
    await afterCommit(unit, headBefore)
  }

  /**
   * One read for every unit at `from` (behaviour 12), then one commit per unit. With `next` (the
   * position of the next group up), the group stops there, so the two merge and share reads.
   */
  const runGroup = async (
    group: readonly ProjectionUnit[],
    from: number,
    next: number | undefined,
  ): Promise<void> => {
    let types: string[] | undefined
    if (group.every((unit) => unit.types !== null)) {
      const union = new Set<string>()
      for (const unit of group) for (const type of unit.types ?? []) union.add(type)
      types = [...union]
    }
    // frozen: one read is shared by the whole group, no projection may reorder it for the others
    const read = await reads.read(from, types, true)
    const headBefore = read.head
    observeHead(context, headBefore)
    const batch: readonly StoredEvent[] = Object.freeze(read.batch)
    const full = batch.length >= batchSize
    const last = batch[batch.length - 1]
    let to = full && last ? last.position : Math.max(headBefore, last?.position ?? from)
    if (to <= from) return
    let shared: readonly StoredEvent[] = batch
    if (next !== undefined && to > next) {
      to = next
      // stopped short on purpose: below headBefore, so not caught up
      shared = batch.filter((event) => event.position <= next)
    }
    // a full batch taken whole: the next one is read while this one is applied (the turn lets
    // the request of a log behind a network leave before a synchronous apply holds the thread)
    else if (full && reads.ahead(to, types, true)) await yieldToEventLoop()
    for (const unit of group) {
      if (stopping()) return
      if (!active(unit) || unitPosition(unit) !== from) continue
      const wanted = unit.types
      const subset =
        wanted === null || (types !== undefined && wanted.size === types.length)
          ? shared
          : shared.filter((event) => wanted.has(event.type))
      await advance(unit, from, to, subset, headBefore)
    }
  }

  return {
    async runBatches() {
      reads.newPass()
      let worked = false
      const head = await events.head()
      observeHead(context, head)
      const groups = new Map<number, ProjectionUnit[]>()
      for (const unit of context.units) {
        if (!active(unit)) continue
        const position = unitPosition(unit)
        if (position >= head) {
          if (runOf(unit)) {
            await rebuilder.complete(unit)
            worked = true
          } else if (unit.phase.kind === 'serving' && !unit.phase.atHead) {
            reachHead(unit)
            reporter.refresh(unit)
          }
          continue
        }
        const group = groups.get(position)
        if (group) group.push(unit)
        else groups.set(position, [unit])
      }
      const positions = [...groups.keys()].sort((a, b) => a - b)
      // units that reached the next group's position join it in this same pass
      let carried: ProjectionUnit[] = []
      for (let i = 0; i < positions.length; i++) {
        if (stopping()) break
        const position = positions[i] as number
        const next = positions[i + 1]
        const group = [...carried, ...(groups.get(position) ?? [])]
        await runGroup(group, position, next)
        worked = true
        carried = group.filter((unit) => active(unit) && unitPosition(unit) === next)
        // Stores like better-sqlite3 work synchronously, so without a macrotask turn between batches
        // a long catch-up would starve the process's I/O (HTTP requests would wait for the rebuild).
        await yieldToEventLoop()
      }
      return worked
    },
  }
}

/** One turn of the event loop (timers, I/O) between batches. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

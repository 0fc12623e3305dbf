import type { TimerHandle } from './clock.js'
import type { ProjectionState } from './collector-types.js'
import type { Deferred } from './deferred.js'
import type { Projection } from './projection.js'
import type { ProjectionBuild, ProjectionSlot } from './projection-store.js'
import { createRateMeter, type RateMeter } from './rate-meter.js'

/**
 * Who advances a rebuild: the main thread's batches (`lendable` while a worker may still take it
 * over), or a worker thread that builds up to `target` and hands the build back.
 */
export type RunExecutor =
  | { readonly kind: 'main'; readonly lendable: boolean }
  | { readonly kind: 'worker'; readonly target: number }

/** A rebuild in progress: beside the live data (`build`) or in place (`build === null`). */
export interface RebuildRun {
  readonly build: ProjectionBuild | null
  /** The build's checkpoint (in place: the live position is used instead). */
  position: number
  readonly startedAt: number
  readonly reason: string
  executor: RunExecutor
}

/**
 * Where one projection is in its lifecycle. Exactly one at a time:
 * - `opening`: its data is not open yet (first start, or reopening after the data vanished);
 *   `rebuild` is a rebuild asked for meanwhile.
 * - `serving`: the live data advances batch by batch; `atHead` once it reached the log's head.
 * - `pending-rebuild`: must be rebuilt before it may advance again; `untrusted` when the live data
 *   is not explained by this log (other log id, or ahead of its head) and must not keep serving
 *   while a rebuild runs beside it, so the rebuild empties it in place (behaviour 3).
 * - `rebuilding`: a rebuild runs, beside the live data or in place.
 */
export type UnitPhase =
  | { readonly kind: 'opening'; readonly rebuild: string | null }
  | { readonly kind: 'serving'; readonly atHead: boolean }
  | { readonly kind: 'pending-rebuild'; readonly reason: string; readonly untrusted: boolean }
  | { readonly kind: 'rebuilding'; readonly run: RebuildRun }

/** What a failed projection waits for before it is tried again. */
export type FailureHold =
  | { readonly kind: 'none' }
  | { readonly kind: 'backoff'; readonly until: number }
  /** Failed with `onError: 'stop'`: waits for `rebuild(name)` or a restart. */
  | { readonly kind: 'halted' }

/** The last failure of a projection, kept until it commits again (independent of its phase). */
export interface UnitFailure {
  readonly message: string
  readonly position: number
  readonly attempts: number
  readonly hold: FailureHold
}

/** Everything the collector knows about one projection. */
export interface ProjectionUnit {
  readonly projection: Projection<unknown>
  readonly name: string
  /** null = every event type. */
  readonly types: ReadonlySet<string> | null
  phase: UnitPhase
  failure: UnitFailure | null
  /** The public state last reported (to log and publish changes only). */
  state: ProjectionState
  /** The live data; null until opened. */
  slot: ProjectionSlot | null
  /** The live slot's checkpoint: what readers see. */
  position: number
  /** A `rebuild(name)` caller waiting for the rebuild to complete. */
  rebuildDeferred: Deferred | null
  retryTimer: TimerHandle | undefined
  readonly meter: RateMeter
  /** When progress was last emitted (throttled). */
  lastProgressAt: number
  /** The last rebuild completed: when it ended (ISO 8601) and how long it took. */
  lastRebuild: { readonly at: string; readonly durationMs: number } | undefined
}

export function createUnit(projection: Projection<unknown>, now: () => number): ProjectionUnit {
  return {
    projection,
    name: projection.name,
    types: projection.eventTypes === undefined ? null : new Set(projection.eventTypes),
    phase: { kind: 'opening', rebuild: null },
    failure: null,
    state: 'starting',
    slot: null,
    position: 0,
    rebuildDeferred: null,
    retryTimer: undefined,
    meter: createRateMeter(now),
    lastProgressAt: Number.NEGATIVE_INFINITY,
    lastRebuild: undefined,
  }
}

// ---- reading ----

/** The public state: derived from the phase and the failure, never stored apart. */
export function publicState(unit: ProjectionUnit, collectorStopped: boolean): ProjectionState {
  if (collectorStopped) return 'stopped'
  if (unit.failure) return 'failed'
  switch (unit.phase.kind) {
    case 'opening':
      return 'starting'
    case 'pending-rebuild':
    case 'rebuilding':
      return 'rebuilding'
    case 'serving':
      return unit.phase.atHead ? 'live' : 'catching-up'
  }
}

/** The run of a rebuilding unit, or null. */
export function runOf(unit: ProjectionUnit): RebuildRun | null {
  return unit.phase.kind === 'rebuilding' ? unit.phase.run : null
}

/** The build beside the live data, if a rebuild runs beside it. */
export function buildOf(unit: ProjectionUnit): ProjectionBuild | null {
  return runOf(unit)?.build ?? null
}

/** The checkpoint the unit advances from: the build's beside a rebuild, the live one otherwise. */
export function unitPosition(unit: ProjectionUnit): number {
  const run = runOf(unit)
  return run?.build ? run.position : unit.position
}

/** The slot batches are committed to: the build beside, or the live slot. */
export function workingSlot(unit: ProjectionUnit): ProjectionSlot | null {
  return buildOf(unit) ?? unit.slot
}

/** Its data is open (it may be rebuilding or waiting for one). */
export function isOpened(unit: ProjectionUnit): boolean {
  return unit.phase.kind !== 'opening'
}

export function isHalted(unit: ProjectionUnit): boolean {
  return unit.failure?.hold.kind === 'halted'
}

/** Halted, or backing off until a time after `now`. */
export function isHeld(unit: ProjectionUnit, now: number): boolean {
  const hold = unit.failure?.hold
  if (!hold) return false
  return hold.kind === 'halted' || (hold.kind === 'backoff' && hold.until > now)
}

/** The rebuild it waits for (why), or null. */
export function pendingRebuildOf(unit: ProjectionUnit): string | null {
  if (unit.phase.kind === 'pending-rebuild') return unit.phase.reason
  if (unit.phase.kind === 'opening') return unit.phase.rebuild
  return null
}

/** Its build is lent to a worker thread: the main thread leaves it alone until it comes back. */
export function isLent(unit: ProjectionUnit): boolean {
  return runOf(unit)?.executor.kind === 'worker'
}

/** May commit batches now: open, not waiting for a rebuild, not held by a failure, not lent. */
export function isActive(unit: ProjectionUnit, now: number): boolean {
  const kind = unit.phase.kind
  return (
    (kind === 'serving' || kind === 'rebuilding') &&
    !isHeld(unit, now) &&
    !isLent(unit) &&
    workingSlot(unit) !== null
  )
}

// ---- transitions ----

/** opening → serving: the stored data is trusted and current. */
export function openedServing(unit: ProjectionUnit, position: number, atHead: boolean): void {
  unit.position = position
  unit.phase = { kind: 'serving', atHead }
}

/** opening → pending-rebuild: the stored data must be rebuilt first. */
export function openedNeedingRebuild(
  unit: ProjectionUnit,
  position: number,
  reason: string,
  untrusted: boolean,
): void {
  unit.position = position
  unit.phase = { kind: 'pending-rebuild', reason, untrusted }
}

/**
 * A rebuild is asked for. From `opening` it is remembered for after the open; from `serving` (or a
 * rebuild whose data vanished, `replace`) it becomes pending; a pending rebuild keeps its reason.
 */
export function requestRebuild(unit: ProjectionUnit, reason: string, replace = false): void {
  switch (unit.phase.kind) {
    case 'opening':
      if (unit.phase.rebuild === null) unit.phase = { kind: 'opening', rebuild: reason }
      return
    case 'serving':
      unit.phase = { kind: 'pending-rebuild', reason, untrusted: false }
      return
    case 'pending-rebuild':
      if (replace) unit.phase = { kind: 'pending-rebuild', reason, untrusted: unit.phase.untrusted }
      return
    case 'rebuilding':
      if (replace) unit.phase = { kind: 'pending-rebuild', reason, untrusted: false }
      return
  }
}

/** pending-rebuild (or opening on fresh data) → rebuilding. In place, the live data starts over at 0. */
export function startRun(
  unit: ProjectionUnit,
  build: ProjectionBuild | null,
  reason: string,
  now: number,
): void {
  if (build === null) unit.position = 0
  const executor: RunExecutor = { kind: 'main', lendable: build !== null }
  unit.phase = { kind: 'rebuilding', run: { build, position: 0, startedAt: now, reason, executor } }
  unit.meter.reset(0)
  unit.lastProgressAt = Number.NEGATIVE_INFINITY
}

/** A rebuild beside, run by the main thread, is lent to a worker that builds it up to `target`. */
export function lendRun(unit: ProjectionUnit, target: number): void {
  const run = runOf(unit)
  if (run?.build) run.executor = { kind: 'worker', target }
}

/** The worker handed the build back at `position`; `lendable`: a worker may take it again. */
export function reclaimRun(unit: ProjectionUnit, position: number, lendable: boolean): void {
  const run = runOf(unit)
  if (!run?.build) return
  run.position = position
  run.executor = { kind: 'main', lendable }
}

/** No worker will take this run (it cannot be built in one): the main thread keeps it. */
export function keepOnMain(unit: ProjectionUnit): void {
  const run = runOf(unit)
  if (run && run.executor.kind === 'main') run.executor = { kind: 'main', lendable: false }
}

/** rebuilding → serving, once the run reached the head (a build beside has been swapped in). */
export function finishRun(unit: ProjectionUnit, head: number): void {
  unit.phase = { kind: 'serving', atHead: unit.position >= head }
}

/** serving → serving at the head. */
export function reachHead(unit: ProjectionUnit): void {
  if (unit.phase.kind === 'serving') unit.phase = { kind: 'serving', atHead: true }
}

/** Any phase → opening: the live data vanished; a pending rebuild is remembered. */
export function loseData(unit: ProjectionUnit): void {
  const pending = unit.phase.kind === 'pending-rebuild' ? unit.phase.reason : null
  unit.phase = { kind: 'opening', rebuild: pending }
  unit.slot = null
  unit.position = 0
}

/**
 * Records a failure; a repeat at the same position counts one more attempt. `holdFor` says what it
 * waits for, given the attempts.
 */
export function fail(
  unit: ProjectionUnit,
  message: string,
  position: number,
  holdFor: (attempts: number) => FailureHold,
): UnitFailure {
  const attempts = unit.failure && unit.failure.position === position ? unit.failure.attempts + 1 : 1
  unit.failure = { message, position, attempts, hold: holdFor(attempts) }
  if (unit.phase.kind === 'serving') unit.phase = { kind: 'serving', atHead: false }
  return unit.failure
}

/** The backoff is over: the unit may be tried again (its failure stays reported until it commits). */
export function endBackoff(unit: ProjectionUnit): void {
  if (unit.failure?.hold.kind === 'backoff') unit.failure = { ...unit.failure, hold: { kind: 'none' } }
}

/** A rebuild was asked for: a halted or backing-off unit is tried now. */
export function release(unit: ProjectionUnit): void {
  if (unit.failure && unit.failure.hold.kind !== 'none')
    unit.failure = { ...unit.failure, hold: { kind: 'none' } }
}

/** Committed (or rebuilt) again: the failure is over. Returns whether there was one. */
export function recover(unit: ProjectionUnit): boolean {
  if (!unit.failure) return false
  unit.failure = null
  return true
}

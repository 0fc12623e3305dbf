import type { CollectorSettings } from './collector-config.js'
import { type LogReachability, REACHABLE } from './log-reachability.js'
import type { ProjectionUnit } from './projection-unit.js'

/** The collector's own lifecycle (each projection has its own phase, see `projection-unit.ts`). */
export type CollectorPhase = 'new' | 'starting' | 'started' | 'stopping' | 'stopped'

/** What every room of the collector shares: its settings, its projections and a few facts. */
export interface CollectorContext {
  readonly settings: CollectorSettings
  readonly units: ProjectionUnit[]
  readonly byName: Map<string, ProjectionUnit>
  phase: CollectorPhase
  /** The store was opened by start() and not yet closed. */
  storeOpened: boolean
  /** The highest log head seen. */
  head: number
  /** Whether the last read of the event log succeeded (see `log-reachability.ts`). */
  log: LogReachability
}

export function createContext(settings: CollectorSettings): CollectorContext {
  return { settings, units: [], byName: new Map(), phase: 'new', storeOpened: false, head: 0, log: REACHABLE }
}

export function isStopping(context: CollectorContext): boolean {
  return context.phase === 'stopping' || context.phase === 'stopped'
}

/** Remembers a head read from the log (heads only grow). */
export function observeHead(context: CollectorContext, head: number): void {
  if (head > context.head) context.head = head
}

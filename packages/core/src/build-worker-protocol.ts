import type { ProjectionSource, WorkerSource } from './worker-source.js'

/** One projection a build worker builds. */
export interface BuildMember {
  readonly name: string
  readonly version: string
  readonly projection: ProjectionSource
  readonly build: WorkerSource
  /** The event types it reads; null = all. */
  readonly types: readonly string[] | null
}

/**
 * What a build worker is started with (its `workerData`): projections at the same checkpoint,
 * built together so they share each read of the log (behaviour 12 inside the worker).
 */
export interface BuildAssignment {
  readonly log: WorkerSource
  readonly members: readonly BuildMember[]
  /** The builds' checkpoint when they were lent. */
  readonly from: number
  /** Build up to this position (the head when they were lent); the main thread does the rest. */
  readonly target: number
  readonly batchSize: number
}

/** What the main thread asks of a running worker: hand one build back now (it is thrown away). */
export interface BuildDrop {
  readonly kind: 'drop'
  readonly name: string
}

/** What a build worker posts back, per projection: a committed checkpoint, the end, or a failure. */
export type BuildReport =
  | { readonly kind: 'progress'; readonly name: string; readonly position: number }
  /** Reached the target, or was dropped: its slot is closed in the worker. */
  | { readonly kind: 'done'; readonly name: string; readonly position: number }
  | {
      readonly kind: 'failed'
      readonly name: string
      /** The last checkpoint committed; the build resumes on the main thread from there. */
      readonly position: number
      readonly message: string
      readonly code: string | undefined
    }

import type { ProjectionSource, WorkerSource } from './worker-source.js'

/** What a build worker is started with (its `workerData`). */
export interface BuildAssignment {
  readonly name: string
  readonly version: string
  readonly projection: ProjectionSource
  readonly log: WorkerSource
  readonly build: WorkerSource
  /** The build's checkpoint when it was lent. */
  readonly from: number
  /** Build up to this position (the head when it was lent); the main thread does the rest. */
  readonly target: number
  readonly batchSize: number
  /** The event types the projection reads; null = all. */
  readonly types: readonly string[] | null
}

/** What a build worker posts back: a committed checkpoint, the end, or the failure that ended it. */
export type BuildReport =
  | { readonly kind: 'progress'; readonly position: number }
  | { readonly kind: 'done'; readonly position: number }
  | {
      readonly kind: 'failed'
      /** The last checkpoint committed; the build resumes on the main thread from there. */
      readonly position: number
      readonly message: string
      readonly code: string | undefined
    }

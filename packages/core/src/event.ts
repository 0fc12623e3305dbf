/**
 * An event as the application appends it.
 *
 * @example
 * ```ts
 * const issued: NewEvent<'PassIssued', { passId: string; holder: string }> = {
 *   type: 'PassIssued',
 *   data: { passId: 'p-1', holder: 'Ada' },
 * }
 * ```
 */
export interface NewEvent<T extends string = string, D = unknown> {
  type: T
  data: D
  metadata?: Record<string, unknown>
}

/**
 * An event as the log stores it: with its global position, stream and time.
 *
 * @example
 * ```ts
 * function onIssued(event: StoredEvent<'PassIssued', { passId: string }>) {
 *   return { position: event.position, streamId: event.streamId, passId: event.data.passId }
 * }
 * ```
 */
export interface StoredEvent<T extends string = string, D = unknown> extends NewEvent<T, D> {
  /** Global position in the log: integer, starts at 1, strictly increasing. */
  position: number
  streamId: string
  /** 1 for a stream's first event. */
  streamVersion: number
  recordedAt: Date
}

/**
 * What `append` expects of the stream: its current version (a number), that it does not exist
 * yet (`'no-stream'`), or nothing (`'any'`).
 *
 * @example
 * ```ts
 * await events.append('pass-1', [issued], { expectedVersion: 'no-stream' })
 * ```
 */
export type ExpectedVersion = number | 'any' | 'no-stream'

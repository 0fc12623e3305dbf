/**
 * Every stable error code the eskit packages throw. Codes are public API: match on `code`,
 * never on the message.
 *
 * @example
 * ```ts
 * const retryable: EskitErrorCode[] = ['BUSY', 'CONCURRENCY']
 * if (isEskitError(error) && retryable.includes(error.code)) retry()
 * ```
 */
export type EskitErrorCode =
  /** `expectedVersion` did not match the stream's current version; nothing was written. */
  | 'CONCURRENCY'
  /** A projection name is not 1–128 chars of `A-Z a-z 0-9 . _ -` or starts with `.`. */
  | 'INVALID_NAME'
  /** Two projections with the same name were added to one collector. */
  | 'DUPLICATE_NAME'
  /** The directory or database is owned by another process. */
  | 'LOCKED'
  /** A projection, stream or file that was asked for does not exist. */
  | 'NOT_FOUND'
  /** A file that was to be written exists already; nothing was replaced (e.g. a snapshot target). */
  | 'ALREADY_EXISTS'
  /** An event is malformed: empty type, data or metadata not JSON-serialisable, bad stream id. */
  | 'INVALID_EVENT'
  /** An argument or option is invalid (not an event, not a name). */
  | 'INVALID_ARGUMENT'
  /** The call is not allowed in the current lifecycle state (e.g. `add` after `start`). */
  | 'INVALID_STATE'
  /** The object was closed or stopped. */
  | 'CLOSED'
  /** `waitFor` did not see the position within its timeout. */
  | 'TIMEOUT'
  /** A projection that was waited for is failed and will not recover on its own (`onError: 'stop'`). */
  | 'FAILED'
  /** A projection's `apply` or `setup` threw; the batch was rolled back. `cause` holds the original. */
  | 'PROJECTION_FAILED'
  /** A checkpoint compare-and-swap failed (someone else moved it); the batch was rolled back. */
  | 'CHECKPOINT_CONFLICT'
  /** Two projections claim the same table (shared store). */
  | 'SCHEMA_CONFLICT'
  /** A file is not what it should be: not SQLite, not an eskit file, or damaged. */
  | 'CORRUPT'
  /** SQLite stayed busy past the busy timeout, or a PostgreSQL lock was not granted within `lock_timeout`. */
  | 'BUSY'
  /**
   * SQLite refused the SQL itself: a syntax error, or a table or column the database does not
   * have (the query is wrong, or the schema changed). Nothing is wrong with the disk.
   */
  | 'INVALID_QUERY'
  /**
   * The event log's server cannot be reached (down, connection lost, no answer within the
   * timeout). An append that fails with it may or may not have committed: retry it with an
   * `expectedVersion` to be sure.
   */
  | 'UNAVAILABLE'
  /** A constraint (unique, foreign key, check) failed. */
  | 'CONSTRAINT'
  /** The disk or the database's page limit is full. */
  | 'DISK_FULL'
  /** The location is read-only or permission was denied. */
  | 'READ_ONLY'
  /** Any other I/O or database failure. */
  | 'IO'
  /**
   * The event log's file was deleted or replaced while the store had it open: appends are refused
   * (they would be acknowledged and then lost), until the file is restored or the store reopened.
   */
  | 'LOG_LOST'

/**
 * The one error type the eskit packages throw. `code` is stable; `cause` holds the underlying
 * error when there is one; `details` carries structured context (names, positions, versions).
 *
 * @example
 * ```ts
 * try {
 *   await events.append('pass-1', [{ type: 'PassIssued', data: {} }], { expectedVersion: 'no-stream' })
 * } catch (error) {
 *   if (isEskitError(error, 'CONCURRENCY')) return { status: 409, body: error.details } // { streamId, expected, actual }
 * }
 * ```
 */
export class EskitError extends Error {
  override readonly name = 'EskitError'
  readonly code: EskitErrorCode
  readonly details: Readonly<Record<string, unknown>>

  constructor(
    code: EskitErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options.details ?? {}
  }
}

/**
 * True when `error` is an {@link EskitError}, optionally with the given code.
 *
 * @example
 * ```ts
 * if (isEskitError(error, 'LOCKED')) process.exit(75)
 * ```
 */
export function isEskitError(error: unknown, code?: EskitErrorCode): error is EskitError {
  return error instanceof EskitError && (code === undefined || error.code === code)
}

import { EskitError } from '../eskit-error.js'

/** Where a store (or an event store) is in its life: never back from `closed`. */
export type LifecyclePhase = 'new' | 'opening' | 'open' | 'closed'

/**
 * The open-once and closed guards every store needs, with an idempotent close.
 *
 * @example
 * ```ts
 * const life = createLifecycle('the json store')
 * async function open() {
 *   life.beginOpen()
 *   try { await claimDirectory() } catch (error) { life.abortOpen(); throw error }
 *   life.open()
 * }
 * async function commit() { life.assertOpen() }
 * const close = () => life.close(async () => releaseDirectory())
 * ```
 */
export interface Lifecycle {
  readonly phase: LifecyclePhase
  /** `CLOSED` once closed; `INVALID_STATE` when open or opening (a reopen is allowed with `reopen`). */
  assertCanOpen(): void
  /** new → opening, for an open that awaits (a second open meanwhile is `INVALID_STATE`). */
  beginOpen(): void
  /** opening → new: the open failed, a later open may try again. */
  abortOpen(): void
  /**
   * new or opening → open, once the work of opening succeeded. `CLOSED` when `close()` was called
   * while it was under way (the caller releases what it opened).
   */
  open(): void
  /** `CLOSED` once closed; `INVALID_STATE` before `open()`. */
  assertOpen(): void
  /** `CLOSED` once closed (for calls that are fine before `open()`). */
  assertNotClosed(): void
  /**
   * Closes once: the first call runs `release` (its error goes to that caller); every later call
   * gets the same promise. The phase is `closed` at once, so nothing new starts meanwhile.
   */
  close(release?: () => void | Promise<void>): Promise<void>
}

/**
 * Creates a {@link Lifecycle}. `what` names the object in messages ("the sqlite store is closed");
 * `details` go into every error. With `open: true` the object is usable at once (event stores are
 * open when created); with `reopen: true` `open()` may be called again while open.
 *
 * @example
 * ```ts
 * const life = createLifecycle('the event store', { open: true })
 * life.assertOpen()
 * await life.close(() => db.close())
 * await life.close() // the same promise: closes once
 * ```
 */
export function createLifecycle(
  what: string,
  options: { open?: boolean; reopen?: boolean; details?: Record<string, unknown> } = {},
): Lifecycle {
  let phase: LifecyclePhase = options.open ? 'open' : 'new'
  let closing: Promise<void> | undefined
  const errorOptions = options.details ? { details: options.details } : {}
  const closedError = (): EskitError => new EskitError('CLOSED', `${what} is closed`, errorOptions)
  const assertCanOpen = (): void => {
    if (phase === 'closed') throw closedError()
    if (phase === 'opening' || (phase === 'open' && !options.reopen))
      throw new EskitError('INVALID_STATE', `${what} is already open`, errorOptions)
  }
  return {
    get phase() {
      return phase
    },
    assertCanOpen,
    beginOpen() {
      assertCanOpen()
      phase = 'opening'
    },
    abortOpen() {
      if (phase === 'opening') phase = 'new'
    },
    open() {
      if (phase === 'closed') throw new EskitError('CLOSED', `${what} was closed while opening`, errorOptions)
      if (phase !== 'opening') assertCanOpen()
      phase = 'open'
    },
    assertOpen() {
      if (phase === 'closed') throw closedError()
      if (phase !== 'open') throw new EskitError('INVALID_STATE', `open ${what} first`, errorOptions)
    },
    assertNotClosed() {
      if (phase === 'closed') throw closedError()
    },
    close(release) {
      if (closing) return closing
      phase = 'closed'
      closing = (async () => {
        await release?.()
      })()
      return closing
    },
  }
}

import { EskitError } from '../eskit-error.js'

/** Where a store (or an event store) is in its life: never back from `closed`. */
export type LifecyclePhase = 'new' | 'open' | 'closed'

/**
 * The open-once and closed guards every store needs, with an idempotent close.
 *
 * @example
 * ```ts
 * const life = createLifecycle('the json store')
 * async function open() { life.assertCanOpen(); claimDirectory(); life.open() }
 * async function commit() { life.assertOpen(); ... }
 * const close = () => life.close(async () => releaseDirectory())
 * ```
 */
export interface Lifecycle {
  readonly phase: LifecyclePhase
  /** `CLOSED` once closed; `INVALID_STATE` when already open (unless `reopen`). Call before the work of opening. */
  assertCanOpen(): void
  /** new → open, once the work of opening succeeded (checks {@link Lifecycle.assertCanOpen} again). */
  open(): void
  /** `CLOSED` once closed; `INVALID_STATE` before `open()`. */
  assertOpen(): void
  /** `CLOSED` once closed (for calls that are fine before `open()`). */
  assertNotClosed(): void
  /**
   * Closes once: the first call runs `release` (errors propagate to that caller); every later
   * call gets the same promise. The phase is `closed` at once, so nothing new starts meanwhile.
   */
  close(release?: () => void | Promise<void>): Promise<void>
}

/**
 * Creates a {@link Lifecycle}. `what` names the object in messages ("the sqlite store is closed");
 * `details` go into every error. With `open: true` the object is usable at once (event stores are
 * open when created); with `reopen: true` a second `open()` is allowed.
 *
 * @example
 * ```ts
 * const life = createLifecycle('the event store', { open: true })
 * life.assertOpen()
 * await life.close(() => db.close())
 * await life.close() // no-op
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
  return {
    get phase() {
      return phase
    },
    assertCanOpen() {
      if (phase === 'closed') throw closedError()
      if (phase === 'open' && !options.reopen)
        throw new EskitError('INVALID_STATE', `${what} is already open`, errorOptions)
    },
    open() {
      this.assertCanOpen()
      phase = 'open'
    },
    assertOpen() {
      if (phase === 'closed') throw closedError()
      if (phase === 'new') throw new EskitError('INVALID_STATE', `open ${what} first`, errorOptions)
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

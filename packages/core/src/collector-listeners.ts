import type { ErrorInfo, ProgressInfo, RebuiltInfo } from './collector-types.js'
import { messageOf } from './error-text.js'
import { EskitError } from './eskit-error.js'
import type { Logger } from './logger.js'

export type CollectorEvent = 'progress' | 'error' | 'rebuilt'

export interface CollectorListeners {
  on(event: CollectorEvent, listener: (info: any) => void): () => void
  emit(event: 'progress', info: ProgressInfo): void
  emit(event: 'error', info: ErrorInfo): void
  emit(event: 'rebuilt', info: RebuiltInfo): void
}

/** The `on()` subscribers: a listener that throws or rejects is logged, never breaks the collector. */
export function createListeners(logger: Logger): CollectorListeners {
  const listeners = new Map<CollectorEvent, Set<(info: unknown) => void>>()
  return {
    on(event, listener) {
      if (event !== 'progress' && event !== 'error' && event !== 'rebuilt') {
        throw new EskitError('INVALID_ARGUMENT', `unknown collector event ${JSON.stringify(event)}`)
      }
      if (typeof listener !== 'function')
        throw new EskitError('INVALID_ARGUMENT', 'on() needs a listener function')
      let set = listeners.get(event)
      if (!set) {
        set = new Set()
        listeners.set(event, set)
      }
      // wrapped so the same function can be subscribed twice and unsubscribed once each
      const wrapped = (info: unknown): void => listener(info)
      set.add(wrapped)
      return () => {
        set.delete(wrapped)
      }
    },
    emit(event: CollectorEvent, info: ProgressInfo | ErrorInfo | RebuiltInfo): void {
      const failed = (error: unknown): void => {
        logger.error(`collector ${event} listener threw`, { event, error: messageOf(error) })
      }
      for (const listener of [...(listeners.get(event) ?? [])]) {
        try {
          const returned: unknown = listener(info)
          // an async listener's rejection would otherwise be unhandled (and end the process)
          if (isThenable(returned)) returned.then(undefined, failed)
        } catch (error) {
          failed(error)
        }
      }
    },
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

import { type CollectorContext, isStopping } from './collector-context.js'
import { messageOf } from './error-text.js'
import type { StoreRequest } from './projection-store.js'

/** Takes the requests other processes left with the store (e.g. `eskit rebuild NAME`), one take at a time. */
export interface RequestPoller {
  poll(): void
}

export function createRequestPoller(
  context: CollectorContext,
  rebuild: (name: string) => Promise<void>,
): RequestPoller {
  const { store, logger } = context.settings
  let taking = false
  return {
    poll() {
      if (!store.takeRequests || taking || isStopping(context)) return
      const take = store.takeRequests.bind(store)
      taking = true
      // a store that throws instead of rejecting must not throw out of the timer (uncaught)
      new Promise<StoreRequest[]>((resolve) => resolve(take()))
        .then((requests) => {
          for (const request of requests) {
            if (isStopping(context)) return
            if (request.type !== 'rebuild' || !context.byName.has(request.name)) {
              logger.warn('ignoring a store request for an unknown projection', { ...request })
              continue
            }
            logger.info('rebuild requested from outside the process', { name: request.name, id: request.id })
            rebuild(request.name).catch((error: unknown) => {
              logger.warn('requested rebuild did not complete', {
                name: request.name,
                error: messageOf(error),
              })
            })
          }
        })
        .catch((error: unknown) => {
          if (!isStopping(context)) logger.warn('could not take store requests', { error: messageOf(error) })
        })
        .finally(() => {
          taking = false
        })
    },
  }
}

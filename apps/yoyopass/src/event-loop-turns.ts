import { setImmediate as nextTurn } from 'node:timers/promises'
import type { EventStore } from '@eskit/core'

/**
 * The same event log, except that every `readAll` lets the event loop take a turn first.
 *
 * Why: better-sqlite3 is synchronous, so a collector catching up or rebuilding runs batch after
 * batch on microtasks alone and would starve I/O — the HTTP server would neither accept nor
 * answer requests until the work is done. One turn per batch (1,000 events by default) keeps
 * every projection answering while another rebuilds, for a negligible cost.
 *
 * @example
 * ```ts
 * const collector = createCollector({ events: withEventLoopTurns(events), store })
 * ```
 */
export function withEventLoopTurns(events: EventStore): EventStore {
  return {
    get id() {
      return events.id
    },
    append: (streamId, batch, options) => events.append(streamId, batch, options),
    async readAll(options) {
      await nextTurn()
      return events.readAll(options)
    },
    readStream: (streamId) => events.readStream(streamId),
    head: () => events.head(),
    onAppend: (listener) => events.onAppend(listener),
    close: () => events.close(),
  }
}

import type { StoredEvent } from './event.js'
import type { EventStore } from './event-store.js'

/** One read of the log: the head as read just before, then the batch after a position. */
export interface LogRead {
  readonly head: number
  readonly batch: StoredEvent[]
}

/**
 * Reads the log one batch ahead while a batch is applied: once the caller knows where its batch
 * ends, {@link ReadAhead.ahead} starts the next read, so a log behind a network (PostgreSQL)
 * fetches and sends the next page while the projections apply this one. Only a log with
 * `readPage` (the head and a page in one round trip, the mark of a log worth reading ahead) is
 * read ahead: a log that reads synchronously (SQLite) would gain nothing, and a batch read early
 * lives through the apply of the one before it (more garbage-collection work).
 *
 * A read ahead is the same pair of calls as a read on demand (the head, then the batch), so it
 * answers exactly as that read would have when it was made. The head it carries is older than a
 * fresh one: a build beside is therefore done only once it is not behind the live data (see the
 * batch runner), and a read kept ahead is dropped after the next pass. A failed read ahead is read
 * again on demand, so its error surfaces where it always did.
 */
export interface ReadAhead {
  /** The head and the events after `from` (at most the batch size; of `types` when given). */
  read(from: number, types: readonly string[] | undefined, withHead: boolean): Promise<LogRead>
  /**
   * Starts the read a later {@link ReadAhead.read} of the same `from` and `types` will take (in
   * place of one kept for them); returns whether it did (never for a log without `readPage`).
   */
  ahead(from: number, types: readonly string[] | undefined, withHead: boolean): boolean
  /**
   * A new pass of the collector: reads kept ahead in the pass before the last are dropped, so a
   * read nobody took (its group merged, failed or moved elsewhere) is never answered late.
   */
  newPass(): void
}

/** Reads kept for groups at other positions (several rebuilds, each at its own checkpoint). */
const KEPT_READS = 4

export function createReadAhead(events: EventStore, limit: number): ReadAhead {
  const kept = new Map<string, { pass: number; read: Promise<LogRead | null> }>()
  const worthIt = typeof events.readPage === 'function'
  let pass = 0

  const keyOf = (from: number, types: readonly string[] | undefined, withHead: boolean): string =>
    `${from}${withHead ? '+' : ''}${types === undefined ? '' : `\n${[...types].sort().join('\n')}`}`

  const fetch = async (from: number, types: readonly string[] | undefined, withHead: boolean) => {
    const options = types === undefined ? { after: from, limit } : { after: from, limit, types: [...types] }
    if (withHead && events.readPage) {
      const page = await events.readPage(options)
      return { head: page.head, batch: page.events }
    }
    const head = withHead ? await events.head() : 0
    return { head, batch: await events.readAll(options) }
  }

  return {
    async read(from, types, withHead) {
      const key = keyOf(from, types, withHead)
      const early = kept.get(key)
      kept.delete(key)
      return (early === undefined ? null : await early.read) ?? (await fetch(from, types, withHead))
    },
    ahead(from, types, withHead) {
      if (!worthIt) return false
      const key = keyOf(from, types, withHead)
      kept.delete(key)
      if (kept.size >= KEPT_READS) kept.delete(kept.keys().next().value as string)
      kept.set(key, { pass, read: fetch(from, types, withHead).catch(() => null) })
      return true
    },
    newPass() {
      pass += 1
      for (const [key, entry] of kept) if (entry.pass < pass - 1) kept.delete(key)
    },
  }
}

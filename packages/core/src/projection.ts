import type { StoredEvent } from './event.js'
import type { ProjectionSource } from './worker-source.js'

/**
 * A projection (read model). `Conn` is what the projection store hands it: a better-sqlite3
 * `Database` on its own file with `sqliteStore`, the shared `Database` with `sharedStore`, a
 * `MemoryConnection` with `memoryStore`.
 *
 * @example
 * ```ts
 * const passCount: Projection<Database> = {
 *   name: 'passes.count',
 *   version: '1',
 *   eventTypes: ['PassIssued'],
 *   setup: (db) => {
 *     db.exec('create table if not exists counts (n integer not null)')
 *   },
 *   apply: (events, db) => { db.prepare('update counts set n = n + ?').run(events.length) },
 * }
 * ```
 */
export interface Projection<Conn = unknown> {
  /** Becomes the file name with per-file stores: `{dir}/{name}.db`. */
  name: string
  /** Change it (or the schema) and the projection is rebuilt. */
  version: string
  /** Event types it needs; omitted = all. Filtered in the event store's query. */
  eventTypes?: readonly string[]
  /** Creates or migrates its tables; runs in the same transaction as the first checkpoint. */
  setup(conn: Conn): void | Promise<void>
  /** Applies one batch, inside the store's transaction; throw to roll the batch back. */
  apply(events: readonly StoredEvent[], conn: Conn): void | Promise<void>
  /**
   * Where the projection can be imported from: with it (and a store and event log that support
   * it) its builds run in a worker thread (see `buildWorkers`); without it they run on the main
   * thread.
   */
  source?: ProjectionSource
}

import type { ProjectionStatus } from './collector-types.js'
import type { StoredEvent } from './event.js'
import type { Logger } from './logger.js'
import type { Projection } from './projection.js'
import type { WorkerSource } from './worker-source.js'

/**
 * What a projection store can do. The Collector adapts to it: without `buildBeside` a rebuild
 * resets the live data and rebuilds in place (readers see it empty while it rebuilds).
 *
 * @example
 * ```ts
 * if (!store.capabilities.buildBeside) logger.warn('rebuilds empty the live data first', { store: store.kind })
 * ```
 */
export interface StoreCapabilities {
  /** Builds a new version beside the live data and swaps it in atomically (zero-downtime rebuild). */
  readonly buildBeside: boolean
  /** Notices live data vanishing under a running process (a deleted file) via `ProjectionSlot.check()`. */
  readonly detectsLoss: boolean
  /** Takes rebuild requests from outside the process (the `eskit` CLI) via `takeRequests()`. */
  readonly externalRequests: boolean
  /**
   * Its builds beside can be lent to a worker thread (`ProjectionBuild.lend`/`reclaim`), so the
   * collector's build workers can run them. Optional: absent means no.
   */
  readonly workerBuilds?: boolean
}

/**
 * Handed to {@link ProjectionStore.open} by the Collector.
 *
 * @example
 * ```ts
 * await store.open({ logId: events.id, logger: silentLogger })
 * ```
 */
export interface StoreContext {
  /** `id` of the event log the projections are built from. */
  readonly logId: string
  readonly logger: Logger
}

/**
 * What a store keeps beside a projection's data: its checkpoint and identity.
 *
 * @example
 * ```ts
 * const state = await slot.state()
 * if (state === null || state.version !== projection.version) await slot.initialize({ version, logId })
 * ```
 */
export interface SlotState {
  /** Last event position whose effects are committed (0 = none). */
  readonly position: number
  /** The projection `version` the data was built with. */
  readonly version: string
  /** The event log `id` the data was built from. */
  readonly logId: string
  /** When the build from position 0 began (ISO 8601). */
  readonly builtAt: string
}

/**
 * An event a projection could not apply and, with `onError: 'skip'`, stepped over.
 *
 * @example
 * ```ts
 * for (const p of await slot.parked()) logger.warn('parked', { position: p.position, type: p.type, error: p.error })
 * ```
 */
export interface ParkedEvent {
  readonly position: number
  readonly streamId: string
  readonly type: string
  readonly error: string
  readonly attempts: number
  /** When it was parked (ISO 8601). */
  readonly parkedAt: string
  /** The event itself, kept so it can be inspected and replayed by hand. */
  readonly event: StoredEvent
}

/**
 * One atomic step of a projection: apply `events` (may be empty) and move the checkpoint from
 * `from` to `to` as a compare-and-swap; record `parked` in the same transaction.
 *
 * @example
 * ```ts
 * await slot.commit({ from: 0, to: batch.at(-1)?.position ?? 0, events: batch })
 * ```
 */
export interface BatchCommit {
  /** The checkpoint the caller believes is stored; any other stored value fails the swap. */
  readonly from: number
  /** The new checkpoint: the position of the last event read (≥ every event's position). */
  readonly to: number
  readonly events: readonly StoredEvent[]
  readonly parked?: readonly ParkedEvent[]
}

/**
 * A request from outside the process (see {@link StoreCapabilities.externalRequests}).
 *
 * @example
 * ```ts
 * for (const request of (await store.takeRequests?.()) ?? []) if (request.type === 'rebuild') rebuild(request.name)
 * ```
 */
export interface StoreRequest {
  readonly type: 'rebuild'
  readonly name: string
  /** Opaque id; the store uses it to report the outcome. */
  readonly id: string
}

/**
 * A projection's data in a store: the live data (from `openSlot`) or a build beside it (from
 * `beginBuild`). The Collector is its only writer.
 *
 * @example
 * ```ts
 * const slot = await store.openSlot(projection)
 * if ((await slot.state()) === null) await slot.initialize({ version: projection.version, logId: events.id })
 * await slot.commit({ from: 0, to: 2, events: batch })
 * ```
 */
export interface ProjectionSlot {
  readonly name: string
  /** The stored state, or `null` when the slot holds no initialised data (new, reset, moved aside). */
  state(): Promise<SlotState | null>
  /**
   * Empties the slot and initialises it in one transaction: drops the projection's data (its
   * tables and its parked events), runs
   * `projection.setup(conn)`, stores `{ position: 0, version, logId, builtAt: now }`. If setup
   * throws, nothing is left half-created and the previous state is kept.
   */
  initialize(init: { version: string; logId: string }): Promise<void>
  /**
   * Runs `projection.apply(batch.events, conn)` (skipped when `events` is empty) and moves the
   * checkpoint `from` → `to` in one transaction. If the stored position is not `from`, or apply
   * throws/rejects, everything rolls back and the error is thrown (`CHECKPOINT_CONFLICT`, or
   * `PROJECTION_FAILED` with the original as `cause`).
   */
  commit(batch: BatchCommit): Promise<void>
  /** Events parked with `onError: 'skip'`, oldest first. */
  parked(): Promise<ParkedEvent[]>
  /** `'lost'` when the data vanished underneath (file deleted or replaced); cheap, called between batches. */
  check?(): 'ok' | 'lost'
  close(): Promise<void>
}

/**
 * A build beside the live data (stores with `capabilities.buildBeside`).
 *
 * @example
 * ```ts
 * const build = await store.beginBuild!(projection)
 * await build.initialize({ version: projection.version, logId: events.id })
 * await build.commit({ from: 0, to: head, events: batch })
 * const live = await build.swap()
 * ```
 */
export interface ProjectionBuild extends ProjectionSlot {
  /**
   * Makes the build durable and atomically replaces the live data with it; readers move to it.
   * Returns the new live slot; the previous live slot is closed by the store.
   */
  swap(): Promise<ProjectionSlot>
  /** Throws the build away; the live data is untouched. */
  discard(): Promise<void>
  /**
   * Lends the build to a worker thread: lets go of it (no call may be made on the build until
   * `reclaim()`) and returns how the worker opens it: the export is called with
   * `(options, projection)` and returns a {@link ProjectionSlot} on the build. Returns null, and
   * keeps the build, when it cannot be built in a worker. Optional.
   */
  lend?(): WorkerSource | null
  /** Takes a lent build back after the worker closed its slot; it is usable again. */
  reclaim?(): void
}

/**
 * The storage-strategy adapter, in the spirit of Kysely's `Dialect`: small, and everything the
 * Collector needs. `sqliteStore` (one file per projection), `sharedStore` (one database) and
 * `memoryStore` implement it; third parties prove theirs with `runProjectionStoreSuite`.
 *
 * Lifecycle: `open` → `openSlot` per projection → batches through slots → `close`.
 *
 * @example
 * ```ts
 * const collector = createCollector({ events, store: memoryStore() })
 * ```
 */
export interface ProjectionStore<Conn = unknown> {
  /** Short name for logs and status, e.g. `'sqlite-files'`. */
  readonly kind: string
  readonly capabilities: StoreCapabilities
  /** Claims the storage for this process: `LOCKED` at once if another process owns it. */
  open(context: StoreContext): Promise<void>
  /**
   * Opens the live data of a projection, creating an empty slot if there is none. Data the store
   * cannot trust (corrupt, foreign) is moved aside with a warning and the slot starts empty.
   */
  openSlot(projection: Projection<Conn>): Promise<ProjectionSlot>
  /** Starts an empty build beside the live data (only with `capabilities.buildBeside`). */
  beginBuild?(projection: Projection<Conn>): Promise<ProjectionBuild>
  /**
   * A read-only connection to the projection's current live data, for queries from the
   * application. Ask again per query: after a swap it is a different connection.
   */
  reader(name: string): Conn
  /** Pending requests from outside the process; each is returned once. */
  takeRequests?(): Promise<StoreRequest[]>
  /** Receives the collector's status (throttled) so tools outside the process can show it. */
  publishStatus?(status: readonly ProjectionStatus[]): void
  /**
   * A query on `reader(name)` failed with `error`. A store that sees corruption in it marks the
   * live data suspect, so the slot's `check()` reports `lost` and the reopen checks it (and moves
   * it aside if damaged). Other errors are ignored. Never throws.
   */
  readFailed?(name: string, error: unknown): void
  /** Closes every slot and connection and releases the ownership claim. Idempotent. */
  close(): Promise<void>
}

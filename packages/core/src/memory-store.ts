import { createLifecycle } from './adapter/lifecycle.js'
import { assertProjectionShape } from './adapter/projection-checks.js'
import { projectionError } from './adapter/storage-faults.js'
import { checkpointConflict, notInitialized, slotClosedError } from './adapter/store-errors.js'
import { assertBatchCommit } from './batch-commit.js'
import type { ProjectionStatus } from './collector-types.js'
import { EskitError } from './eskit-error.js'
import { type Logger, silentLogger } from './logger.js'
import {
  beginMemoryTransaction,
  type MemoryConnection,
  type MemoryTables,
  memoryReader,
} from './memory-connection.js'
import type { Projection } from './projection.js'
import type {
  BatchCommit,
  ParkedEvent,
  ProjectionBuild,
  ProjectionSlot,
  ProjectionStore,
  SlotState,
  StoreCapabilities,
  StoreContext,
  StoreRequest,
} from './projection-store.js'
import { assertProjectionName } from './validation.js'

/**
 * One projection's data in a {@link MemoryStoreState}: tables, checkpoint, parked events.
 *
 * @example
 * ```ts
 * const data: MemoryProjectionData | undefined = store.state.projections.get('passes.count')
 * data?.state?.position // its checkpoint
 * ```
 */
export interface MemoryProjectionData {
  state: SlotState | null
  tables: MemoryTables
  parked: ParkedEvent[]
}

/**
 * The data behind {@link memoryStore}. Hand the same state to a new store to simulate a process
 * restart (projections resume from their checkpoints); create one with
 * {@link createMemoryStoreState}.
 *
 * @example
 * ```ts
 * const state: MemoryStoreState = createMemoryStoreState()
 * const store = memoryStore({ state })
 * ```
 */
export interface MemoryStoreState {
  /** The store instance that owns the data (a second one gets `LOCKED`). */
  owner: object | undefined
  /** Live data by projection name. */
  readonly projections: Map<string, MemoryProjectionData>
  /** Rebuild requests waiting for `takeRequests()`. */
  readonly requests: StoreRequest[]
  /** The last status the collector published. */
  status: readonly ProjectionStatus[]
}

/**
 * Creates the data of a memory projection store that outlives one store instance.
 *
 * @example
 * ```ts
 * const state = createMemoryStoreState()
 * const first = createCollector({ events, store: memoryStore({ state }) }).add(view)
 * await first.start(); await first.stop()
 * const second = createCollector({ events, store: memoryStore({ state }) }).add(view)
 * await second.start() // resumes, no replay
 * ```
 */
export function createMemoryStoreState(): MemoryStoreState {
  return { owner: undefined, projections: new Map(), requests: [], status: [] }
}

/**
 * Options of {@link memoryStore}.
 *
 * @example
 * ```ts
 * const options: MemoryStoreOptions = { buildBeside: false } // rebuild in place, like sharedStore
 * const store = memoryStore(options)
 * ```
 */
export interface MemoryStoreOptions {
  /** Shared data, to restart over the same projections (see {@link createMemoryStoreState}). */
  state?: MemoryStoreState
  /** Whether rebuilds happen beside the live data (default true); false rebuilds in place. */
  buildBeside?: boolean
  /**
   * Whether live slots notice their data vanishing (default false): with true, deleting a
   * projection from `state.projections` makes its slot's `check()` say `'lost'`, as a deleted
   * file does with `sqliteStore`.
   */
  detectsLoss?: boolean
}

/**
 * The store {@link memoryStore} returns: a `ProjectionStore<MemoryConnection>` with test helpers.
 *
 * @example
 * ```ts
 * const store: MemoryStore = memoryStore()
 * store.requestRebuild('passes.count') // picked up by the collector's next poll
 * ```
 */
export interface MemoryStore extends ProjectionStore<MemoryConnection> {
  /** The data it works on (shared with other stores given the same `state`). */
  readonly state: MemoryStoreState
  /** Queues a rebuild request as the `eskit` CLI would; returns the request id. */
  requestRebuild(name: string): string
}

/**
 * A projection store in memory, for unit tests of projections and for examples. Each commit
 * works on a copy and publishes it on success, so a throwing `apply` leaves no trace; rebuilds
 * happen beside the live data and are swapped in; rebuild requests from `requestRebuild` arrive
 * through `takeRequests`. Projections get a {@link MemoryConnection}.
 *
 * @example
 * ```ts
 * const store = memoryStore()
 * const collector = createCollector({ events: createMemoryEventStore(), store }).add(countView)
 * await collector.start()
 * collector.reader<MemoryConnection>('passes.count').table('counts').get('all')
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const state = options.state ?? createMemoryStoreState()
  const capabilities: StoreCapabilities = {
    buildBeside: options.buildBeside ?? true,
    detectsLoss: options.detectsLoss ?? false,
    externalRequests: true,
  }
  const life = createLifecycle('the memory store', { reopen: true })
  let logger: Logger = silentLogger
  const openSlots = new Set<MemorySlot>()
  const assertUsable = (): void => life.assertOpen()

  interface MemorySlot extends ProjectionSlot {
    data: MemoryProjectionData
    closed: boolean
  }

  const makeSlot = (
    projection: Projection<MemoryConnection>,
    data: MemoryProjectionData,
    live: boolean,
  ): MemorySlot => {
    const name = projection.name
    const assertSlotOpen = (): void => {
      assertUsable()
      if (slot.closed) throw slotClosedError(name)
    }
    const slot: MemorySlot = {
      name,
      data,
      closed: false,
      async state() {
        assertSlotOpen()
        return slot.data.state
      },
      async initialize(init) {
        assertSlotOpen()
        const transaction = beginMemoryTransaction(new Map())
        try {
          await projection.setup(transaction.conn)
        } catch (error) {
          throw projectionError(name, 'setup', error)
        } finally {
          transaction.end()
        }
        assertSlotOpen()
        slot.data.tables = transaction.result()
        slot.data.parked = []
        slot.data.state = {
          position: 0,
          version: init.version,
          logId: init.logId,
          builtAt: new Date().toISOString(),
        }
      },
      async commit(batch: BatchCommit) {
        assertSlotOpen()
        assertBatchCommit(batch)
        const stored = slot.data.state
        if (stored === null) throw notInitialized(name)
        if (stored.position !== batch.from) throw checkpointConflict(name, batch.from, stored.position)
        const transaction = beginMemoryTransaction(slot.data.tables)
        try {
          if (batch.events.length > 0) await projection.apply(batch.events, transaction.conn)
        } catch (error) {
          throw projectionError(name, 'apply', error, { details: { from: batch.from, to: batch.to } })
        } finally {
          transaction.end()
        }
        assertSlotOpen()
        // apply may be async: the swap is checked again at publish time
        if (slot.data.state !== stored)
          throw checkpointConflict(name, batch.from, slot.data.state?.position ?? null)
        slot.data.tables = transaction.result()
        if (batch.parked && batch.parked.length > 0) {
          slot.data.parked = [...slot.data.parked, ...batch.parked.map((parked) => structuredClone(parked))]
        }
        slot.data.state = { ...stored, position: batch.to }
      },
      async parked() {
        assertSlotOpen()
        return slot.data.parked.map((parked) => structuredClone(parked))
      },
      async close() {
        slot.closed = true
        openSlots.delete(slot)
      },
    }
    if (capabilities.detectsLoss && live) {
      slot.check = () => (state.projections.get(name) === slot.data ? 'ok' : 'lost')
    }
    openSlots.add(slot)
    return slot
  }

  const liveData = (name: string): MemoryProjectionData => {
    let data = state.projections.get(name)
    if (!data) {
      data = { state: null, tables: new Map(), parked: [] }
      state.projections.set(name, data)
    }
    return data
  }

  const store: MemoryStore = {
    kind: 'memory',
    capabilities,
    state,
    async open(context: StoreContext) {
      life.assertNotClosed()
      if (state.owner !== undefined && state.owner !== store) {
        throw new EskitError('LOCKED', 'the memory store state is owned by another store instance')
      }
      state.owner = store
      logger = context.logger
      life.open()
      logger.debug('memory store opened', { logId: context.logId })
    },
    async openSlot(projection) {
      assertUsable()
      assertProjectionShape(projection)
      return makeSlot(projection, liveData(projection.name), true)
    },
    async beginBuild(projection): Promise<ProjectionBuild> {
      assertUsable()
      assertProjectionShape(projection)
      if (!capabilities.buildBeside) {
        throw new EskitError('INVALID_STATE', 'this memory store rebuilds in place (buildBeside: false)')
      }
      const slot = makeSlot(projection, { state: null, tables: new Map(), parked: [] }, false)
      let finished = false
      const assertPending = (): void => {
        if (finished)
          throw new EskitError('INVALID_STATE', `the build of ${projection.name} is already finished`)
      }
      return Object.assign(slot, {
        async swap(): Promise<ProjectionSlot> {
          assertUsable()
          assertPending()
          if (slot.data.state === null) {
            throw new EskitError('INVALID_STATE', `the build of ${projection.name} is not initialised`)
          }
          finished = true
          for (const other of [...openSlots]) {
            if (other.name === projection.name && other.data === state.projections.get(projection.name)) {
              await other.close()
            }
          }
          state.projections.set(projection.name, slot.data)
          await slot.close()
          return makeSlot(projection, slot.data, true)
        },
        async discard() {
          if (finished) return
          finished = true
          await slot.close()
        },
      })
    },
    reader(name) {
      assertProjectionName(name)
      const empty: MemoryTables = new Map()
      return memoryReader(() => state.projections.get(name)?.tables ?? empty)
    },
    async takeRequests() {
      assertUsable()
      return state.requests.splice(0, state.requests.length)
    },
    publishStatus(status) {
      state.status = structuredClone([...status])
    },
    requestRebuild(name) {
      assertProjectionName(name)
      const id = globalThis.crypto.randomUUID()
      state.requests.push({ type: 'rebuild', name, id })
      return id
    },
    close: () =>
      life.close(async () => {
        for (const slot of [...openSlots]) await slot.close()
        if (state.owner === store) state.owner = undefined
      }),
  }
  return store
}

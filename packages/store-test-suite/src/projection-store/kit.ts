import {
  type Collector,
  type CollectorConfig,
  createCollector,
  createMemoryEventStore,
  type EventStore,
  type Logger,
  type Projection,
  type ProjectionStore,
  type RebuiltInfo,
  type StoredEvent,
  silentLogger,
} from '@eskit/core'
import type { ProjectionFixture, SuiteRow } from '../fixtures.js'
import type { SuiteContext } from '../suite-context.js'
import {
  appendSample,
  createProbe,
  type Probe,
  readEverything,
  testProjection,
} from '../suite-projections.js'

/**
 * The groups of {@link runProjectionStoreSuite}; name one in `skip` to switch it off.
 *
 * @example
 * ```ts
 * const group: ProjectionStoreGroup = 'lock'
 * runProjectionStoreSuite({ name, createStore, fixture, skip: { [group]: 'the server enforces it' } })
 * ```
 */
export type ProjectionStoreGroup =
  | 'catchUp'
  | 'initialize'
  | 'atomicity'
  | 'checkpointSwap'
  | 'restart'
  | 'versionChange'
  | 'logIdChange'
  | 'beyondHead'
  | 'buildBeside'
  | 'rebuild'
  | 'failureIsolation'
  | 'parked'
  | 'waitFor'
  | 'reader'
  | 'lock'
  | 'externalRequests'
  | 'loss'

export const ALL_GROUPS: readonly ProjectionStoreGroup[] = [
  'catchUp',
  'initialize',
  'atomicity',
  'checkpointSwap',
  'restart',
  'versionChange',
  'logIdChange',
  'beyondHead',
  'buildBeside',
  'rebuild',
  'failureIsolation',
  'parked',
  'waitFor',
  'reader',
  'lock',
  'externalRequests',
  'loss',
]

/**
 * Options of {@link runProjectionStoreSuite}.
 *
 * @example
 * ```ts
 * const options: ProjectionStoreSuiteOptions<Database> = {
 *   name: 'sqliteStore',
 *   createStore: (location) => sqliteStore({ dir: location }),
 *   fixture: sqliteFixture,
 * }
 * runProjectionStoreSuite(options)
 * ```
 */
export interface ProjectionStoreSuiteOptions<Conn> {
  /** Shown in the test titles. */
  name: string
  /**
   * Creates a store over `location` (a fresh temp directory per test). Called again with the
   * same location (after the first store was closed), it must give a store over the same data.
   */
  createStore(location: string): ProjectionStore<any> | Promise<ProjectionStore<any>>
  /** How the suite's projections create, write and read a table with this store's connection. */
  fixture: ProjectionFixture<Conn>
  /** Groups the store cannot support, each with the reason (shown in the skipped title). */
  skip?: Partial<Record<ProjectionStoreGroup, string>>
  /** Logger handed to the stores and collectors (default: silent). */
  logger?: Logger
  /**
   * For stores with `capabilities.externalRequests`: asks for a rebuild of `name` from outside
   * the process, as the `eskit` CLI would (e.g. write a request file into `location`). Without
   * it the `externalRequests` tests are skipped.
   */
  requestRebuild?(location: string, name: string, store: ProjectionStore<any>): void | Promise<void>
  /**
   * For stores with `capabilities.detectsLoss`: makes the live data of `name` vanish under the
   * running store (e.g. delete its file). Without it the `loss` tests are skipped.
   */
  loseData?(location: string, name: string, store: ProjectionStore<any>): void | Promise<void>
}

/** The log id of the suite's default event log. */
export const LOG_ID = 'suite-log-a'

/**
 * What every group of the projection-store suite uses: the options, the running test's context
 * and helpers that create stores, logs and collectors cleaned up after the test.
 */
export function createProjectionSuiteKit<Conn>(
  options: ProjectionStoreSuiteOptions<Conn>,
  context: () => SuiteContext,
) {
  const { fixture } = options
  const logger: Logger = options.logger ?? silentLogger

  /** Everything one test needs, all cleaned up after it. */
  const env = (ctx: SuiteContext = context()) => {
    const created = {
      /** A store over the test's location, not opened. */
      async store(): Promise<ProjectionStore<any>> {
        const store = await options.createStore(ctx.location)
        ctx.defer(() => store.close())
        return store
      },
      /** A store over the test's location, opened for `logId`. */
      async openStore(logId = LOG_ID): Promise<ProjectionStore<any>> {
        const store = await created.store()
        await store.open({ logId, logger })
        return store
      },
      events(id = LOG_ID): EventStore {
        const events = createMemoryEventStore({ id })
        ctx.defer(() => events.close())
        return events
      },
      collector(
        config: Pick<CollectorConfig, 'events' | 'store'> & Partial<CollectorConfig>,
        projections: Projection<Conn>[],
      ): Collector {
        const collector = createCollector({
          batchSize: 25,
          pollIntervalMs: 20,
          retry: { initialDelayMs: 5, maxDelayMs: 40 },
          logger,
          ...config,
        })
        for (const projection of projections) collector.add(projection)
        ctx.defer(() => collector.stop())
        return collector
      },
      /** Rows of `table` through the store's reader for `name`. */
      async rows(store: ProjectionStore<any>, name: string, table: string): Promise<SuiteRow[]> {
        return normalise(await fixture.rows(store.reader(name) as Conn, table))
      },
    }
    return created
  }

  const project = (
    name: string,
    table: string,
    more: { version?: string; eventTypes?: string[]; probe?: Probe } = {},
  ) => testProjection(fixture, { name, table, ...more })

  /** Events 1..n of a memory log, as `StoredEvent`s (for direct slot commits). */
  const sample = async (events: EventStore, n: number): Promise<StoredEvent[]> => {
    await appendSample(events, n)
    return readEverything(events)
  }

  /** Runs v1 of a projection to the head of `firstLog`, stops, restarts with `second`. */
  const restartWith = async (
    t: ReturnType<typeof env>,
    firstLog: EventStore,
    secondLog: EventStore,
    secondVersion: string,
  ) => {
    const firstStore = await t.store()
    const first = t.collector({ events: firstLog, store: firstStore }, [
      project('suite.rebuilt', 'rebuilt_rows'),
      project('suite.steady', 'steady_rows'),
    ])
    await first.start()
    await first.waitFor(await firstLog.head())
    await first.stop()
    const store = await t.store()
    const steadyProbe = createProbe()
    const second = t.collector({ events: secondLog, store }, [
      project('suite.rebuilt', 'rebuilt_rows', { version: secondVersion }),
      project('suite.steady', 'steady_rows', { probe: steadyProbe }),
    ])
    const rebuilt: RebuiltInfo[] = []
    second.on('rebuilt', (info) => rebuilt.push(info))
    await second.start()
    return { store, second, rebuilt, steadyProbe }
  }

  return { options, fixture, logger, context, env, project, sample, restartWith, LOG_ID }
}

/** The kit handed to each group (see {@link createProjectionSuiteKit}). */
export type ProjectionSuiteKit<Conn> = ReturnType<typeof createProjectionSuiteKit<Conn>>

/** Rows as plain objects with numeric positions (drivers may return other shapes). */
export function normalise(rows: readonly SuiteRow[]): SuiteRow[] {
  return rows.map((row) => ({
    id: String(row.id),
    position: Number(row.position),
    type: row.type,
    value: row.value,
  }))
}

import {
  type Collector,
  type CollectorConfig,
  createCollector,
  createMemoryEventStore,
  type ErrorInfo,
  type EventStore,
  isEskitError,
  type Logger,
  type Projection,
  type ProjectionStore,
  type RebuiltInfo,
  type StoredEvent,
  silentLogger,
} from '@eskit/core'
import { describe, expect, it } from 'vitest'
import type { ProjectionFixture, SuiteRow } from './fixtures.js'
import { groupTitle, type SuiteContext, useSuiteContext } from './suite-context.js'
import {
  appendSample,
  createProbe,
  eventually,
  expectedRows,
  gate,
  type Probe,
  readEverything,
  testProjection,
} from './suite-projections.js'

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

const ALL_GROUPS: readonly ProjectionStoreGroup[] = [
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

const LOG_ID = 'suite-log-a'

/**
 * Defines the projection-store conformance tests (vitest `describe`/`it`) for a
 * {@link ProjectionStore} adapter: the slot API directly (initialize, atomic commit with a
 * checkpoint compare-and-swap, parked events, build beside and swap, discard, durability over a
 * reopen) and the adapter under a real `Collector` (catch-up, restart without replay, rebuilds on
 * version, log-id and head changes, failure isolation with every `onError` policy, `waitFor`).
 *
 * @example
 * ```ts
 * // sqlite-store.suite.test.ts
 * import { runProjectionStoreSuite, sqliteFixture } from '@eskit/store-test-suite'
 * runProjectionStoreSuite({
 *   name: 'sqliteStore',
 *   createStore: (location) => sqliteStore({ dir: location }),
 *   fixture: sqliteFixture,
 * })
 * ```
 */
export function runProjectionStoreSuite<Conn>(options: ProjectionStoreSuiteOptions<Conn>): void {
  for (const group of Object.keys(options.skip ?? {})) {
    if (!ALL_GROUPS.includes(group as ProjectionStoreGroup)) {
      throw new Error(`runProjectionStoreSuite: unknown group ${group}`)
    }
  }
  const { fixture } = options
  const logger = options.logger ?? silentLogger

  describe(`projection store conformance: ${options.name}`, () => {
    const context = useSuiteContext()

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

    const group = (name: ProjectionStoreGroup, body: () => void): void => {
      const { title, skipped } = groupTitle(name, options.skip)
      if (skipped) describe.skip(title, body)
      else describe(title, body)
    }

    /** Events 1..n of a memory log, as `StoredEvent`s (for direct slot commits). */
    const sample = async (events: EventStore, n: number): Promise<StoredEvent[]> => {
      await appendSample(events, n)
      return readEverything(events)
    }

    group('catchUp', () => {
      it('a new slot has no state; initialize stores position 0, version and log id; commits move the checkpoint', async () => {
        const t = env()
        const store = await t.openStore()
        const all = await sample(t.events(), 6)
        const slot = await store.openSlot(project('suite.direct', 'direct_rows'))
        expect(await slot.state()).toBeNull()
        await slot.initialize({ version: '1', logId: LOG_ID })
        const initial = await slot.state()
        expect(initial).toMatchObject({ position: 0, version: '1', logId: LOG_ID })
        expect(Number.isNaN(Date.parse(initial?.builtAt ?? ''))).toBe(false)
        await slot.commit({ from: 0, to: 3, events: all.slice(0, 3) })
        expect((await slot.state())?.position).toBe(3)
        expect(await t.rows(store, 'suite.direct', 'direct_rows')).toEqual(expectedRows('1', all.slice(0, 3)))
        // an empty batch still moves the checkpoint (a filtered projection reaching the head)
        await slot.commit({ from: 3, to: 6, events: [] })
        expect(await slot.state()).toMatchObject({
          position: 6,
          version: '1',
          logId: LOG_ID,
          builtAt: initial?.builtAt,
        })
        expect((await t.rows(store, 'suite.direct', 'direct_rows')).length).toBe(3)
      })

      it('a collector catches up in batches, filtered and unfiltered, and follows new appends', async () => {
        const t = env()
        const events = t.events()
        await appendSample(events, 230)
        const store = await t.store()
        const collector = t.collector({ events, store }, [
          project('suite.all', 'all_rows'),
          project('suite.issued', 'issued_rows', { eventTypes: ['Issued'] }),
        ])
        await collector.start()
        await collector.waitFor(230)
        let log = await readEverything(events)
        expect(await t.rows(store, 'suite.all', 'all_rows')).toEqual(expectedRows('1', log))
        expect(await t.rows(store, 'suite.issued', 'issued_rows')).toEqual(expectedRows('1', log, ['Issued']))
        await appendSample(events, 5, 231)
        await collector.waitFor(235)
        log = await readEverything(events)
        expect(await t.rows(store, 'suite.all', 'all_rows')).toEqual(expectedRows('1', log))
        expect(await t.rows(store, 'suite.issued', 'issued_rows')).toEqual(expectedRows('1', log, ['Issued']))
        await eventually(
          () => collector.status().every((s) => s.state === 'live' && s.position === 235 && s.lag === 0),
          'both projections live at 235',
        )
      })

      it('projections at the same position share one read per batch', async () => {
        const t = env()
        const events = gate(t.events())
        await appendSample(events, 200)
        const store = await t.store()
        const collector = t.collector({ events, store, batchSize: 50 }, [
          project('suite.one', 'one_rows'),
          project('suite.two', 'two_rows'),
          project('suite.three', 'three_rows', { eventTypes: ['Issued'] }),
        ])
        await collector.start()
        await collector.waitFor(200)
        // 200 events in batches of 50: 4 reads (plus at most one that finds nothing), not one per projection
        expect(events.reads.length).toBeLessThanOrEqual(5)
        expect(events.reads.every((read) => read.types === undefined)).toBe(true)
      })

      it('a filtered-only group asks the log for its types', async () => {
        const t = env()
        const events = gate(t.events())
        await appendSample(events, 60)
        const store = await t.store()
        const collector = t.collector({ events, store }, [
          project('suite.issued', 'issued_rows', { eventTypes: ['Issued'] }),
        ])
        await collector.start()
        await collector.waitFor(60)
        expect(events.reads.length).toBeGreaterThan(0)
        expect(events.reads.every((read) => JSON.stringify(read.types) === '["Issued"]')).toBe(true)
        expect((await t.rows(store, 'suite.issued', 'issued_rows')).length).toBe(20)
      })
    })

    group('initialize', () => {
      it('initialize empties the slot and runs setup again (reset)', async () => {
        const t = env()
        const store = await t.openStore()
        const all = await sample(t.events(), 5)
        const slot = await store.openSlot(project('suite.reset', 'reset_rows'))
        await slot.initialize({ version: '1', logId: LOG_ID })
        await slot.commit({ from: 0, to: 5, events: all })
        expect((await t.rows(store, 'suite.reset', 'reset_rows')).length).toBe(5)
        await slot.initialize({ version: '2', logId: 'suite-log-b' })
        expect(await slot.state()).toMatchObject({ position: 0, version: '2', logId: 'suite-log-b' })
        expect(await t.rows(store, 'suite.reset', 'reset_rows')).toEqual([])
        await slot.commit({ from: 0, to: 2, events: all.slice(0, 2) })
        expect((await t.rows(store, 'suite.reset', 'reset_rows')).length).toBe(2)
      })

      it('a setup that throws fails with PROJECTION_FAILED and keeps the previous data and state', async () => {
        const t = env()
        const store = await t.openStore()
        const all = await sample(t.events(), 4)
        const good = project('suite.setup', 'setup_rows')
        const slot = await store.openSlot(good)
        await slot.initialize({ version: '1', logId: LOG_ID })
        await slot.commit({ from: 0, to: 4, events: all })
        const before = await slot.state()
        await slot.close()
        const broken: Projection<Conn> = {
          ...good,
          version: '2',
          setup(conn) {
            fixture.setup(conn, 'setup_other')
            throw new Error('setup broke')
          },
        }
        const again = await store.openSlot(broken)
        const error = await again.initialize({ version: '2', logId: LOG_ID }).catch((e) => e)
        expect(isEskitError(error, 'PROJECTION_FAILED')).toBe(true)
        expect(await again.state()).toEqual(before)
        expect(await t.rows(store, 'suite.setup', 'setup_rows')).toEqual(expectedRows('1', all))
      })
    })

    group('atomicity', () => {
      const failures: Array<[string, (probe: Probe) => void, (error: unknown) => void]> = [
        [
          'throws an Error',
          (probe) => {
            probe.throwOn = (event) => (event.position === 6 ? new Error('apply broke at 6') : undefined)
          },
          (cause) => expect((cause as Error).message).toBe('apply broke at 6'),
        ],
        [
          'rejects',
          (probe) => {
            probe.async = true
            probe.throwOn = (event) => (event.position === 6 ? new Error('apply rejected at 6') : undefined)
          },
          (cause) => expect((cause as Error).message).toBe('apply rejected at 6'),
        ],
        [
          'throws a non-Error value',
          (probe) => {
            probe.throwOn = (event) => (event.position === 6 ? 'a plain string' : undefined)
          },
          (cause) => expect(cause).toBe('a plain string'),
        ],
      ]
      for (const [how, arrange, checkCause] of failures) {
        it(`a batch whose apply ${how} mid-batch leaves no row and no checkpoint move`, async () => {
          const t = env()
          const store = await t.openStore()
          const all = await sample(t.events(), 8)
          const probe = createProbe()
          const slot = await store.openSlot(project('suite.atomic', 'atomic_rows', { probe }))
          await slot.initialize({ version: '1', logId: LOG_ID })
          await slot.commit({ from: 0, to: 3, events: all.slice(0, 3) })
          arrange(probe)
          const error = await slot.commit({ from: 3, to: 8, events: all.slice(3, 8) }).catch((e) => e)
          expect(isEskitError(error, 'PROJECTION_FAILED')).toBe(true)
          checkCause(error.cause)
          expect((await slot.state())?.position).toBe(3)
          expect(await t.rows(store, 'suite.atomic', 'atomic_rows')).toEqual(
            expectedRows('1', all.slice(0, 3)),
          )
          // the same batch goes through once the projection is fixed: nothing of the failed try remained
          probe.throwOn = undefined
          await slot.commit({ from: 3, to: 8, events: all.slice(3, 8) })
          expect((await slot.state())?.position).toBe(8)
          expect(await t.rows(store, 'suite.atomic', 'atomic_rows')).toEqual(expectedRows('1', all))
        })
      }
    })

    group('checkpointSwap', () => {
      it('a commit from a checkpoint that is not the stored one fails with CHECKPOINT_CONFLICT and writes nothing', async () => {
        const t = env()
        const store = await t.openStore()
        const all = await sample(t.events(), 6)
        const probe = createProbe()
        const slot = await store.openSlot(project('suite.cas', 'cas_rows', { probe }))
        await slot.initialize({ version: '1', logId: LOG_ID })
        await slot.commit({ from: 0, to: 3, events: all.slice(0, 3) })
        for (const from of [0, 2, 4]) {
          const batch = all.filter((event) => event.position > from && event.position <= 6)
          const error = await slot.commit({ from, to: 6, events: batch }).catch((e) => e)
          expect(isEskitError(error, 'CHECKPOINT_CONFLICT')).toBe(true)
        }
        expect((await slot.state())?.position).toBe(3)
        expect(await t.rows(store, 'suite.cas', 'cas_rows')).toEqual(expectedRows('1', all.slice(0, 3)))
        await slot.commit({ from: 3, to: 6, events: all.slice(3) })
        expect(await t.rows(store, 'suite.cas', 'cas_rows')).toEqual(expectedRows('1', all))
      })
    })

    group('restart', () => {
      it('state, rows and parked events survive closing and reopening the store', async () => {
        const t = env()
        const first = await t.openStore()
        const all = await sample(t.events(), 5)
        const projection = project('suite.durable', 'durable_rows')
        const slot = await first.openSlot(projection)
        await slot.initialize({ version: '1', logId: LOG_ID })
        await slot.commit({ from: 0, to: 5, events: all })
        const before = await slot.state()
        await first.close()
        const second = await t.openStore()
        const reopened = await second.openSlot(projection)
        expect(await reopened.state()).toEqual(before)
        expect(await t.rows(second, 'suite.durable', 'durable_rows')).toEqual(expectedRows('1', all))
      })

      it('a restarted collector resumes from the checkpoints without replaying', async () => {
        const t = env()
        const events = t.events()
        await appendSample(events, 120)
        const firstStore = await t.store()
        const first = t.collector({ events, store: firstStore }, [
          project('suite.resume', 'resume_rows'),
          project('suite.resume_issued', 'resume_issued_rows', { eventTypes: ['Issued'] }),
        ])
        await first.start()
        await first.waitFor(120)
        await first.stop()

        const probe = createProbe()
        const issuedProbe = createProbe()
        const store = await t.store()
        const second = t.collector({ events, store }, [
          project('suite.resume', 'resume_rows', { probe }),
          project('suite.resume_issued', 'resume_issued_rows', {
            eventTypes: ['Issued'],
            probe: issuedProbe,
          }),
        ])
        await second.start()
        // existing data is served at once: the positions are the stored ones, no rebuild
        expect(second.status().map((s) => [s.name, s.position, s.state === 'rebuilding'])).toEqual([
          ['suite.resume', 120, false],
          ['suite.resume_issued', 120, false],
        ])
        await second.waitFor(120)
        expect(probe.applied).toEqual([])
        await appendSample(events, 6, 121)
        await second.waitFor(126)
        expect(probe.applied).toEqual([121, 122, 123, 124, 125, 126])
        expect(issuedProbe.applied).toEqual([123, 126])
        const log = await readEverything(events)
        expect(await t.rows(store, 'suite.resume', 'resume_rows')).toEqual(expectedRows('1', log))
        expect(await t.rows(store, 'suite.resume_issued', 'resume_issued_rows')).toEqual(
          expectedRows('1', log, ['Issued']),
        )
      })
    })

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

    group('versionChange', () => {
      it('a new version is rebuilt from the log and reports rebuilt; other projections are untouched', async () => {
        const t = env()
        const events = t.events()
        await appendSample(events, 90)
        const { store, second, rebuilt, steadyProbe } = await restartWith(t, events, events, '2')
        const rebuilding = second.status().find((s) => s.name === 'suite.rebuilt')
        expect(rebuilding).toMatchObject({ version: '2', state: 'rebuilding' })
        expect(rebuilding?.rebuild?.target).toBe(90)
        await eventually(() => rebuilt.length === 1, 'the rebuilt event')
        expect(rebuilt[0]).toMatchObject({
          name: 'suite.rebuilt',
          version: '2',
          position: 90,
          swapped: store.capabilities.buildBeside,
        })
        await second.waitFor(90)
        const log = await readEverything(events)
        expect(await t.rows(store, 'suite.rebuilt', 'rebuilt_rows')).toEqual(expectedRows('2', log))
        expect(await t.rows(store, 'suite.steady', 'steady_rows')).toEqual(expectedRows('1', log))
        expect(steadyProbe.applied).toEqual([])
        await eventually(
          () => second.status().find((s) => s.name === 'suite.rebuilt')?.state === 'live',
          'the rebuilt projection live',
        )
        expect(second.status().find((s) => s.name === 'suite.rebuilt')?.rebuild).toBeUndefined()
      })
    })

    group('logIdChange', () => {
      it('data built from another event log is rebuilt', async () => {
        const t = env()
        const logA = t.events('suite-log-a')
        await appendSample(logA, 40)
        const logB = t.events('suite-log-b')
        await appendSample(logB, 25, 1000)
        const { store, second, rebuilt } = await restartWith(t, logA, logB, '1')
        await eventually(() => rebuilt.length === 2, 'both projections rebuilt')
        await second.waitFor(25)
        const log = await readEverything(logB)
        expect(await t.rows(store, 'suite.rebuilt', 'rebuilt_rows')).toEqual(expectedRows('1', log))
        expect(await t.rows(store, 'suite.steady', 'steady_rows')).toEqual(expectedRows('1', log))
      })
    })

    group('beyondHead', () => {
      it('data at a position beyond the log head (log restored from an older backup) is rebuilt', async () => {
        const t = env()
        const longer = t.events(LOG_ID)
        await appendSample(longer, 50)
        const shorter = t.events(LOG_ID)
        await appendSample(shorter, 30)
        const { store, second, rebuilt } = await restartWith(t, longer, shorter, '1')
        await eventually(() => rebuilt.length === 2, 'both projections rebuilt')
        await second.waitFor(30)
        const log = await readEverything(shorter)
        expect(await t.rows(store, 'suite.rebuilt', 'rebuilt_rows')).toEqual(expectedRows('1', log))
        expect(second.status().map((s) => s.position)).toEqual([30, 30])
      })
    })

    group('buildBeside', () => {
      it('a build is invisible to readers until swap, then replaces the live data durably', async (test) => {
        const t = env()
        const store = await t.openStore()
        if (!store.capabilities.buildBeside || !store.beginBuild) test.skip()
        const all = await sample(t.events(), 8)
        const v1 = project('suite.beside', 'beside_rows')
        const live = await store.openSlot(v1)
        await live.initialize({ version: '1', logId: LOG_ID })
        await live.commit({ from: 0, to: 8, events: all })
        const v2 = project('suite.beside', 'beside_rows', { version: '2' })
        const build = await (store.beginBuild as NonNullable<typeof store.beginBuild>)(v2)
        expect(await build.state()).toBeNull()
        await build.initialize({ version: '2', logId: LOG_ID })
        await build.commit({ from: 0, to: 5, events: all.slice(0, 5) })
        // readers and the live slot still see version 1
        expect(await t.rows(store, 'suite.beside', 'beside_rows')).toEqual(expectedRows('1', all))
        expect(await live.state()).toMatchObject({ version: '1', position: 8 })
        const swapped = await build.swap()
        expect(await swapped.state()).toMatchObject({ version: '2', position: 5 })
        expect(await t.rows(store, 'suite.beside', 'beside_rows')).toEqual(expectedRows('2', all.slice(0, 5)))
        await swapped.commit({ from: 5, to: 8, events: all.slice(5) })
        expect(await t.rows(store, 'suite.beside', 'beside_rows')).toEqual(expectedRows('2', all))
        await store.close()
        const reopened = await t.openStore()
        const slot = await reopened.openSlot(v2)
        expect(await slot.state()).toMatchObject({ version: '2', position: 8 })
        expect(await t.rows(reopened, 'suite.beside', 'beside_rows')).toEqual(expectedRows('2', all))
      })

      it('discard throws the build away and leaves the live data intact', async (test) => {
        const t = env()
        const store = await t.openStore()
        if (!store.capabilities.buildBeside || !store.beginBuild) test.skip()
        const all = await sample(t.events(), 6)
        const v1 = project('suite.discard', 'discard_rows')
        const live = await store.openSlot(v1)
        await live.initialize({ version: '1', logId: LOG_ID })
        await live.commit({ from: 0, to: 6, events: all })
        const before = await live.state()
        const build = await (store.beginBuild as NonNullable<typeof store.beginBuild>)(
          project('suite.discard', 'discard_rows', { version: '2' }),
        )
        await build.initialize({ version: '2', logId: LOG_ID })
        await build.commit({ from: 0, to: 2, events: all.slice(0, 2) })
        await build.discard()
        expect(await live.state()).toEqual(before)
        expect(await t.rows(store, 'suite.discard', 'discard_rows')).toEqual(expectedRows('1', all))
        await live.commit({ from: 6, to: 6, events: [] })
        await store.close()
        const reopened = await t.openStore()
        expect(await (await reopened.openSlot(v1)).state()).toEqual(before)
        expect(await t.rows(reopened, 'suite.discard', 'discard_rows')).toEqual(expectedRows('1', all))
      })
    })

    group('rebuild', () => {
      it('under a collector, reads are answered from the old data during the rebuild and from the new after', async () => {
        const t = env()
        const memory = t.events()
        await appendSample(memory, 60)
        const events = gate(memory)
        const firstStore = await t.store()
        const first = t.collector({ events, store: firstStore }, [project('suite.bg', 'bg_rows')])
        await first.start()
        await first.waitFor(60)
        await first.stop()

        const store = await t.store()
        const second = t.collector({ events, store }, [project('suite.bg', 'bg_rows', { version: '2' })])
        const rebuilt: RebuiltInfo[] = []
        second.on('rebuilt', (info) => rebuilt.push(info))
        // hold the rebuild at its first read
        events.block((read) => read.after === 0)
        await second.start()
        const log = await readEverything(memory)
        expect(second.status()[0]).toMatchObject({ version: '2', state: 'rebuilding' })
        if (store.capabilities.buildBeside) {
          expect(await t.rows(store, 'suite.bg', 'bg_rows')).toEqual(expectedRows('1', log))
          expect(second.status()[0]?.position).toBe(60)
          // the live data is not advanced by the old code: a new event waits for the swap
          await appendSample(memory, 1, 61)
          const early = await second.waitFor(61, { timeoutMs: 30 }).catch((e) => e)
          expect(isEskitError(early, 'TIMEOUT')).toBe(true)
        } else {
          await appendSample(memory, 1, 61)
        }
        events.release()
        await second.waitFor(61)
        await eventually(() => rebuilt.length === 1, 'the rebuilt event')
        expect(rebuilt[0]).toMatchObject({
          name: 'suite.bg',
          version: '2',
          swapped: store.capabilities.buildBeside,
        })
        expect(await t.rows(store, 'suite.bg', 'bg_rows')).toEqual(
          expectedRows('2', await readEverything(memory)),
        )
      })

      it('rebuild(name) resolves once the new data is in place; a second call shares the promise', async () => {
        const t = env()
        const events = t.events()
        await appendSample(events, 40)
        const store = await t.store()
        const probe = createProbe()
        const collector = t.collector({ events, store }, [project('suite.again', 'again_rows', { probe })])
        await collector.start()
        await collector.waitFor(40)
        probe.applied.length = 0
        const rebuilt: RebuiltInfo[] = []
        collector.on('rebuilt', (info) => rebuilt.push(info))
        const one = collector.rebuild('suite.again')
        const two = collector.rebuild('suite.again')
        expect(two).toBe(one)
        await one
        expect(rebuilt).toEqual([expect.objectContaining({ name: 'suite.again', position: 40 })])
        expect(probe.applied).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
        expect(await t.rows(store, 'suite.again', 'again_rows')).toEqual(
          expectedRows('1', await readEverything(events)),
        )
        const missing = await collector.rebuild('suite.nope').catch((e) => e)
        expect(isEskitError(missing, 'NOT_FOUND')).toBe(true)
      })
    })

    group('failureIsolation', () => {
      const poisonAt = 17
      const arrange = async (
        policy: 'retry' | 'skip' | 'stop',
        throwing: (event: StoredEvent) => unknown,
        async = false,
      ) => {
        const t = env()
        const events = t.events()
        await appendSample(events, 40)
        const store = await t.store()
        const badProbe = createProbe()
        badProbe.throwOn = (event) => (event.position === poisonAt ? throwing(event) : undefined)
        badProbe.async = async
        const collector = t.collector({ events, store, onError: policy, batchSize: 10 }, [
          project('suite.good', 'good_rows'),
          project('suite.bad', 'bad_rows', { probe: badProbe }),
        ])
        const errors: ErrorInfo[] = []
        collector.on('error', (info) => errors.push(info))
        await collector.start()
        await collector.waitFor(40, { projections: ['suite.good'] })
        const bad = () => collector.status().find((s) => s.name === 'suite.bad')
        const good = () => collector.status().find((s) => s.name === 'suite.good')
        return { t, events, store, collector, errors, badProbe, bad, good }
      }

      const throwers: Array<[string, (event: StoredEvent) => unknown, string]> = [
        ['an Error', (event) => new Error(`bad event ${event.position}`), `bad event ${poisonAt}`],
        ['a string', () => 'not an error object', 'not an error object'],
      ]
      for (const [what, throwing, message] of throwers) {
        it(`'retry': the failing projection (${what}) reports failed with the position and retries; the other stays live`, async () => {
          const { t, events, store, collector, errors, badProbe, bad, good } = await arrange(
            'retry',
            throwing,
          )
          await eventually(() => (bad()?.error?.attempts ?? 0) >= 2, 'two failed attempts')
          expect(bad()).toMatchObject({ state: 'failed', position: poisonAt - 1 })
          expect(bad()?.error).toMatchObject({ message, position: poisonAt })
          expect(errors[0]).toMatchObject({
            name: 'suite.bad',
            position: poisonAt,
            attempts: 1,
            policy: 'retry',
          })
          expect(errors[0]?.error).toBeInstanceOf(Error)
          // events before the failing one are committed, nothing after it
          const log = await readEverything(events)
          expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
            expectedRows('1', log.slice(0, poisonAt - 1)),
          )
          // the other projection keeps going, live
          await appendSample(events, 3, 41)
          await collector.waitFor(43, { projections: ['suite.good'] })
          expect(good()).toMatchObject({ state: 'live', position: 43 })
          expect(await t.rows(store, 'suite.good', 'good_rows')).toEqual(
            expectedRows('1', await readEverything(events)),
          )
          // fixed: it recovers on the next retry, the error clears
          badProbe.throwOn = undefined
          await collector.waitFor(43)
          await eventually(() => bad()?.state === 'live', 'the fixed projection live')
          expect(bad()?.error).toBeUndefined()
          expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
            expectedRows('1', await readEverything(events)),
          )
        })
      }

      it("'retry' also isolates a projection whose apply rejects", async () => {
        const { t, events, store, collector, badProbe, bad } = await arrange(
          'retry',
          (event) => new Error(`rejected ${event.position}`),
          true,
        )
        await eventually(() => bad()?.state === 'failed', 'the failed state')
        expect(bad()?.error).toMatchObject({ message: `rejected ${poisonAt}`, position: poisonAt })
        badProbe.throwOn = undefined
        await collector.waitFor(40)
        expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
          expectedRows('1', await readEverything(events)),
        )
      })

      it("'skip': the failing event is parked and the projection carries on to the head", async () => {
        const { t, events, store, collector, errors, bad } = await arrange(
          'skip',
          (event) => new Error(`bad event ${event.position}`),
        )
        await collector.waitFor(40)
        expect(bad()).toMatchObject({ position: 40 })
        expect(bad()?.error).toBeUndefined()
        const log = await readEverything(events)
        expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
          expectedRows(
            '1',
            log.filter((event) => event.position !== poisonAt),
          ),
        )
        const parked = await collector.parked('suite.bad')
        expect(parked).toHaveLength(1)
        const poison = log[poisonAt - 1] as StoredEvent
        expect(parked[0]).toMatchObject({
          position: poisonAt,
          streamId: poison.streamId,
          type: poison.type,
          attempts: 1,
        })
        expect(parked[0]?.error).toContain(`bad event ${poisonAt}`)
        expect(parked[0]?.event).toMatchObject({ position: poisonAt, type: poison.type, data: poison.data })
        expect(Number.isNaN(Date.parse(parked[0]?.parkedAt ?? ''))).toBe(false)
        expect(await collector.parked('suite.good')).toEqual([])
        expect(errors).toEqual([
          expect.objectContaining({ name: 'suite.bad', position: poisonAt, policy: 'skip' }),
        ])
      })

      it("'stop': the projection halts, waitFor fails with FAILED at once, rebuild(name) brings it back", async () => {
        const { t, events, store, collector, badProbe, bad, good } = await arrange(
          'stop',
          (event) => new Error(`bad event ${event.position}`),
        )
        await eventually(() => bad()?.state === 'failed', 'the failed state')
        expect(bad()?.error).toMatchObject({ position: poisonAt, attempts: 1 })
        const failed = await collector.waitFor(40, { timeoutMs: 10_000 }).catch((e) => e)
        expect(isEskitError(failed, 'FAILED')).toBe(true)
        expect(failed.message).toContain('suite.bad')
        await appendSample(events, 2, 41)
        await collector.waitFor(42, { projections: ['suite.good'] })
        expect(good()?.state).toBe('live')
        expect(bad()).toMatchObject({ state: 'failed', position: poisonAt - 1 })
        badProbe.throwOn = undefined
        await collector.rebuild('suite.bad')
        await collector.waitFor(42)
        expect(bad()?.error).toBeUndefined()
        expect(await t.rows(store, 'suite.bad', 'bad_rows')).toEqual(
          expectedRows('1', await readEverything(events)),
        )
      })
    })

    group('parked', () => {
      it('parked events are stored with the commit, listed oldest first, kept over a reopen, cleared by initialize', async () => {
        const t = env()
        const store = await t.openStore()
        const all = await sample(t.events(), 6)
        const projection = project('suite.parked', 'parked_rows')
        const slot = await store.openSlot(projection)
        await slot.initialize({ version: '1', logId: LOG_ID })
        expect(await slot.parked()).toEqual([])
        const parkedAt = new Date().toISOString()
        const park = (event: StoredEvent) => ({
          position: event.position,
          streamId: event.streamId,
          type: event.type,
          error: `cannot apply ${event.position}`,
          attempts: 1,
          parkedAt,
          event,
        })
        const e2 = all[1] as StoredEvent
        const e5 = all[4] as StoredEvent
        await slot.commit({ from: 0, to: 1, events: all.slice(0, 1) })
        await slot.commit({ from: 1, to: 2, events: [], parked: [park(e2)] })
        await slot.commit({ from: 2, to: 5, events: all.slice(2, 4), parked: [park(e5)] })
        const listed = await slot.parked()
        expect(listed.map((p) => [p.position, p.streamId, p.type, p.error, p.attempts, p.parkedAt])).toEqual([
          [2, e2.streamId, e2.type, 'cannot apply 2', 1, parkedAt],
          [5, e5.streamId, e5.type, 'cannot apply 5', 1, parkedAt],
        ])
        expect(listed[0]?.event).toMatchObject({
          position: 2,
          streamId: e2.streamId,
          type: e2.type,
          data: e2.data,
        })
        // parked events are part of the batch: a conflicting commit parks nothing
        const conflict = await slot
          .commit({ from: 4, to: 6, events: [], parked: [park(all[5] as StoredEvent)] })
          .catch((e) => e)
        expect(isEskitError(conflict, 'CHECKPOINT_CONFLICT')).toBe(true)
        expect((await slot.parked()).length).toBe(2)
        await store.close()
        const reopened = await t.openStore()
        const again = await reopened.openSlot(projection)
        expect((await again.parked()).map((p) => p.position)).toEqual([2, 5])
        await again.initialize({ version: '1', logId: LOG_ID })
        expect(await again.parked()).toEqual([])
      })
    })

    group('waitFor', () => {
      it('gives read-your-writes for every projection, one append after the other', async () => {
        const t = env()
        const events = t.events()
        const store = await t.store()
        const collector = t.collector({ events, store }, [
          project('suite.ryw', 'ryw_rows'),
          project('suite.ryw_issued', 'ryw_issued_rows', { eventTypes: ['Issued'] }),
        ])
        await collector.start()
        for (let n = 1; n <= 15; n++) {
          const { position } = await events.append(`s-${n % 2}`, [
            { type: n % 3 === 0 ? 'Issued' : 'Scanned', data: { n } },
          ])
          await collector.waitFor(position)
          const rows = await t.rows(store, 'suite.ryw', 'ryw_rows')
          expect(rows[rows.length - 1]?.position).toBe(position)
          expect(rows.length).toBe(n)
        }
        expect((await t.rows(store, 'suite.ryw_issued', 'ryw_issued_rows')).map((r) => r.position)).toEqual([
          3, 6, 9, 12, 15,
        ])
        await collector.waitFor(15, { projections: ['suite.ryw_issued'] })
      })

      it('times out with TIMEOUT naming the projections behind; unknown names are NOT_FOUND', async () => {
        const t = env()
        const memory = t.events()
        const events = gate(memory)
        await appendSample(memory, 10)
        const store = await t.store()
        const collector = t.collector({ events, store }, [project('suite.slow', 'slow_rows')])
        events.block(() => true)
        await collector.start()
        const error = await collector.waitFor(10, { timeoutMs: 40 }).catch((e) => e)
        expect(isEskitError(error, 'TIMEOUT')).toBe(true)
        expect(error.message).toContain('suite.slow')
        const unknown = await collector.waitFor(1, { projections: ['suite.nope'] }).catch((e) => e)
        expect(isEskitError(unknown, 'NOT_FOUND')).toBe(true)
        events.release()
        await collector.waitFor(10)
        expect((await t.rows(store, 'suite.slow', 'slow_rows')).length).toBe(10)
      })

      it('a pending waitFor is rejected with CLOSED by stop()', async () => {
        const t = env()
        const events = t.events()
        const store = await t.store()
        const collector = t.collector({ events, store }, [project('suite.closing', 'closing_rows')])
        await collector.start()
        const pending = collector.waitFor(5).catch((e) => e)
        await collector.stop()
        expect(isEskitError(await pending, 'CLOSED')).toBe(true)
      })
    })

    group('reader', () => {
      it('the collector reader shows the live data, and follows a rebuild', async () => {
        const t = env()
        const events = t.events()
        await appendSample(events, 12)
        const store = await t.store()
        const collector = t.collector({ events, store }, [project('suite.read', 'read_rows')])
        await collector.start()
        await collector.waitFor(12)
        const log = await readEverything(events)
        expect(normalise(await fixture.rows(collector.reader<Conn>('suite.read'), 'read_rows'))).toEqual(
          expectedRows('1', log),
        )
        await collector.rebuild('suite.read')
        expect(normalise(await fixture.rows(collector.reader<Conn>('suite.read'), 'read_rows'))).toEqual(
          expectedRows('1', log),
        )
        expect(() => collector.reader('suite.nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }))
      })
    })

    group('externalRequests', () => {
      it('a rebuild requested from outside the process is picked up by the poll and rebuilds', async (test) => {
        const t = env()
        const events = t.events()
        await appendSample(events, 30)
        const store = await t.store()
        if (!store.capabilities.externalRequests || !options.requestRebuild) test.skip()
        const probe = createProbe()
        const collector = t.collector({ events, store }, [
          project('suite.asked', 'asked_rows', { probe }),
          project('suite.other', 'other_rows'),
        ])
        const rebuilt: RebuiltInfo[] = []
        collector.on('rebuilt', (info) => rebuilt.push(info))
        await collector.start()
        await collector.waitFor(30)
        await eventually(() => rebuilt.length === 2, 'the first builds')
        probe.applied.length = 0
        await options.requestRebuild?.(context().location, 'suite.asked', store)
        await eventually(() => rebuilt.length === 3, 'the requested rebuild')
        expect(rebuilt[2]).toMatchObject({ name: 'suite.asked', position: 30 })
        expect(probe.applied).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
        const log = await readEverything(events)
        expect(await t.rows(store, 'suite.asked', 'asked_rows')).toEqual(expectedRows('1', log))
        expect(await t.rows(store, 'suite.other', 'other_rows')).toEqual(expectedRows('1', log))
      })
    })

    group('loss', () => {
      it('data that vanishes under a running collector is rebuilt; the other projections are not', async (test) => {
        const t = env()
        const events = t.events()
        await appendSample(events, 30)
        const store = await t.store()
        if (!store.capabilities.detectsLoss || !options.loseData) test.skip()
        const otherProbe = createProbe()
        const collector = t.collector({ events, store }, [
          project('suite.lost', 'lost_rows'),
          project('suite.kept', 'kept_rows', { probe: otherProbe }),
        ])
        await collector.start()
        await collector.waitFor(30)
        otherProbe.applied.length = 0
        await options.loseData?.(context().location, 'suite.lost', store)
        await appendSample(events, 2, 31)
        await collector.waitFor(32)
        const log = await readEverything(events)
        await eventually(
          async () => (await t.rows(store, 'suite.lost', 'lost_rows')).length === 32,
          'the rebuilt rows',
        )
        expect(await t.rows(store, 'suite.lost', 'lost_rows')).toEqual(expectedRows('1', log))
        expect(await t.rows(store, 'suite.kept', 'kept_rows')).toEqual(expectedRows('1', log))
        expect(otherProbe.applied).toEqual([31, 32])
      })
    })

    group('lock', () => {
      it('a second store over the same location gets LOCKED until the first is closed', async () => {
        const t = env()
        const first = await t.openStore()
        const second = await t.store()
        const error = await second.open({ logId: LOG_ID, logger }).catch((e) => e)
        expect(isEskitError(error, 'LOCKED')).toBe(true)
        await first.close()
        const third = await t.store()
        await third.open({ logId: LOG_ID, logger })
      })
    })
  })
}

/** Rows as plain objects with numeric positions (drivers may return other shapes). */
function normalise(rows: readonly SuiteRow[]): SuiteRow[] {
  return rows.map((row) => ({
    id: String(row.id),
    position: Number(row.position),
    type: row.type,
    value: row.value,
  }))
}

import fs from 'node:fs'
import path from 'node:path'
import type {
  Logger,
  Projection,
  ProjectionStatus,
  ProjectionStore,
  StoreCapabilities,
  StoreContext,
  StoreRequest,
} from '@eskit/core'
import { assertProjectionName, EskitError, isEskitError, silentLogger } from '@eskit/core'
import { assertProjectionShape, createLifecycle } from '@eskit/core/adapter'
import { sqliteErrorCode, toEskitError } from '@eskit/core/sqlite'
import type Database from 'better-sqlite3'
import { type Build, type BuildHost, createBuild, type Live } from './build-swap.js'
import { cleanDirectory } from './clean-directory.js'
import { collectorSlot } from './collector-slot.js'
import { openReader } from './connection.js'
import { fsyncDirectory, removeIfExists } from './durability.js'
import { ensureDirectory } from './ensure-directory.js'
import { createFileSlot, type FileSlot } from './file-slot.js'
import {
  type DirectoryLayout,
  directoryLayout,
  projectionFilePath,
  SQLITE_COMPANION_SUFFIXES,
} from './layout.js'
import { acquireOwnership, type OwnershipLock } from './ownership.js'
import { createRequestTracker, type RequestTracker } from './request-tracker.js'
import { takeRequestFiles } from './requests.js'
import { writeStatusFile } from './status-file.js'
import { decideLiveFile } from './trust-live-file.js'
import { verifyProjectionFile } from './verify-file.js'

/**
 * Options of {@link sqliteStore}.
 *
 * @example
 * ```ts
 * const options: SqliteStoreOptions = { dir: 'data/projections', busyTimeoutMs: 10_000, integrityCheck: 'quick' }
 * const store = sqliteStore(options)
 * ```
 */
export interface SqliteStoreOptions {
  /** The projection directory: `{dir}/{name}.db` per projection. Created when missing. */
  dir: string
  /** Where warnings (moved-aside files, bad requests) go; default the collector's logger. */
  logger?: Logger
  /** How long a connection waits for a lock held by another connection. Default 5000 ms. */
  busyTimeoutMs?: number
  /**
   * What is checked when a projection file is opened. `'metadata'` (default): the SQLite header,
   * the eskit metadata row and the projection name, which reads a few pages and keeps start-up
   * fast whatever the file size. `'quick'`: also `PRAGMA quick_check`, which reads the whole file.
   * A file on which SQLite reported corruption while running is always quick-checked on reopen.
   */
  integrityCheck?: 'metadata' | 'quick'
}

/**
 * The store {@link sqliteStore} returns.
 *
 * @example
 * ```ts
 * const store: SqliteStore = sqliteStore({ dir: 'data/projections' })
 * store.dir // '/abs/data/projections'; store.kind // 'sqlite-files'
 * ```
 */
export interface SqliteStore extends ProjectionStore<Database.Database> {
  /** The projection directory. */
  readonly dir: string
}

/**
 * The projection store with **one SQLite file per projection**: `{dir}/{name}.db` holds the
 * projection's tables and its checkpoint. Rebuilds are built beside the live file under
 * `{dir}/.eskit/builds/` and renamed over it atomically, so reads never stop; a deleted file is
 * noticed and rebuilt alone; a corrupt or foreign file is moved to `{dir}/.eskit/quarantine/`
 * and rebuilt; one process owns the directory at a time (`LOCKED` for the next). Projections get
 * a better-sqlite3 `Database` on their own file.
 *
 * @example
 * ```ts
 * import { createCollector } from '@eskit/core'
 * import { sqliteStore } from '@eskit/sqlite-store'
 *
 * const collector = createCollector({ events, store: sqliteStore({ dir: 'data/projections' }) })
 * collector.add(passView)
 * await collector.start()
 * const db = collector.reader<Database>('passes.pass_view')
 * db.prepare('select * from passes where id = ?').get('pass-1')
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions): SqliteStore {
  if (typeof options?.dir !== 'string' || options.dir.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', 'sqliteStore needs a directory: sqliteStore({ dir })')
  }
  const dir = path.resolve(options.dir)
  const layout: DirectoryLayout = directoryLayout(dir)
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  const integrityCheck = options.integrityCheck ?? 'metadata'
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new EskitError('INVALID_ARGUMENT', 'busyTimeoutMs must be an integer >= 0', {
      details: { busyTimeoutMs },
    })
  }
  if (integrityCheck !== 'metadata' && integrityCheck !== 'quick') {
    throw new EskitError('INVALID_ARGUMENT', "integrityCheck must be 'metadata' or 'quick'", {
      details: { integrityCheck },
    })
  }
  const capabilities: StoreCapabilities = {
    buildBeside: true,
    detectsLoss: true,
    externalRequests: true,
    workerBuilds: true,
  }

  let logger: Logger = options.logger ?? silentLogger
  /** The id of the event log the collector runs on (from `open`). */
  let logId: string | undefined
  let lock: OwnershipLock | null = null
  let tracker: RequestTracker | null = null
  /** What the collector published last: a request taken now is measured against it. */
  let published: readonly ProjectionStatus[] = []
  const lives = new Map<string, Live>()
  const builds = new Set<Build>()
  /** Names whose file reported corruption: quick-checked before they are trusted again. */
  const suspects = new Set<string>()

  const life = createLifecycle('the sqlite store', { details: { dir } })
  const assertOpen = (): void => life.assertOpen()
  const assertProjection = assertProjectionShape

  const liveOf = (name: string): Live => {
    let live = lives.get(name)
    if (!live) {
      live = { slot: null, reader: null }
      lives.set(name, live)
    }
    return live
  }

  const closeReader = (live: Live | undefined): void => {
    const reader = live?.reader
    if (!live || !reader) return
    live.reader = null
    try {
      reader.close()
    } catch (error) {
      logger.debug('could not close a reader', { error: (error as Error).message })
    }
  }

  const removeCompanions = (file: string): void => {
    for (const suffix of SQLITE_COMPANION_SUFFIXES) removeIfExists(`${file}${suffix}`)
  }

  /** Opens the live file of a projection: creates, verifies or moves aside, then attaches a slot. */
  const openLiveSlot = (projection: Projection<Database.Database>, file: string): FileSlot => {
    const name = projection.name
    const slotFor = (connection: Database.Database | undefined, ensureSchema: boolean): FileSlot =>
      createFileSlot({
        projection,
        file,
        mode: 'live',
        busyTimeoutMs,
        ensureSchema,
        ...(connection ? { connection } : {}),
        beforeClose: (closing) => {
          if (closing.suspect) suspects.add(name)
          const live = lives.get(name)
          if (live?.slot !== closing) return
          live.slot = null
          // no connection may stay on the file while it is settled for rest (WAL folded back in)
          closeReader(live)
        },
      })
    const decision = decideLiveFile({
      layout,
      name,
      file,
      logger,
      verify: () =>
        verifyProjectionFile(name, file, {
          busyTimeoutMs,
          logId,
          quickCheck: integrityCheck === 'quick' || suspects.has(name),
        }),
    })
    if (decision.kind === 'trusted') {
      suspects.delete(name)
      return slotFor(decision.connection, decision.empty)
    }
    if (decision.verified) suspects.delete(name)
    // -wal/-shm/-journal without their main file belong to a file that is gone: never pair them
    removeCompanions(file)
    const slot = slotFor(undefined, true)
    fsyncDirectory(dir)
    return slot
  }

  const discardBuild = (build: Build): void => {
    builds.delete(build)
    build.finished = true
    build.slot.retire()
    removeIfExists(build.slot.file)
    removeCompanions(build.slot.file)
  }

  const buildHost: BuildHost = {
    dir,
    layout,
    busyTimeoutMs,
    builds,
    get logger() {
      return logger
    },
    assertOpen,
    liveOf,
    closeReader,
    openLiveSlot,
    swapped: (name, position) => tracker?.swapped(name, position),
    discardBuild,
  }

  const store: SqliteStore = {
    kind: 'sqlite-files',
    capabilities,
    dir,

    async open(context: StoreContext) {
      life.assertCanOpen()
      logger = options.logger ?? context?.logger ?? silentLogger
      logId = typeof context?.logId === 'string' ? context.logId : undefined
      try {
        ensureDirectory(dir)
      } catch (error) {
        throw toEskitError(error, `could not create projection directory ${dir}`, { dir })
      }
      lock = acquireOwnership(dir)
      try {
        cleanDirectory(layout)
      } catch (error) {
        lock.release()
        lock = null
        throw toEskitError(error, `could not prepare projection directory ${dir}`, { dir })
      }
      tracker = createRequestTracker(dir, logger)
      life.open()
      logger.debug('sqlite store opened', { dir, logId: context?.logId })
    },

    async openSlot(projection) {
      assertOpen()
      assertProjection(projection)
      const live = liveOf(projection.name)
      if (live.slot) {
        // the previous slot of this name is replaced (the collector reopens a lost file)
        if (live.slot.suspect) suspects.add(projection.name)
        live.slot.retire()
        live.slot = null
      }
      // also keeps this process from opening the file through another descriptor while a reader has it
      closeReader(live)
      const file = projectionFilePath(dir, projection.name)
      try {
        live.slot = openLiveSlot(projection, file)
      } catch (error) {
        throw toEskitError(error, `could not open projection ${projection.name}`, { name: projection.name })
      }
      return collectorSlot(live.slot)
    },

    async beginBuild(projection) {
      assertOpen()
      assertProjection(projection)
      try {
        return createBuild(buildHost, projection)
      } catch (error) {
        throw toEskitError(error, `could not start a build of ${projection.name}`, { name: projection.name })
      }
    },

    reader(name) {
      assertProjectionName(name)
      life.assertNotClosed()
      const live = liveOf(name)
      if (live.reader?.open) return live.reader
      const file = projectionFilePath(dir, name)
      if (!fs.existsSync(file)) {
        throw new EskitError('NOT_FOUND', `projection ${name} has no file in ${dir}`, {
          details: { name, file },
        })
      }
      try {
        live.reader = openReader(file, busyTimeoutMs)
      } catch (error) {
        throw toEskitError(error, `could not open a reader on ${name}`, { name, file })
      }
      return live.reader
    },

    async takeRequests() {
      assertOpen()
      const taken: StoreRequest[] = []
      for (const request of takeRequestFiles(dir, logger)) {
        if (!lives.get(request.name)?.slot) {
          logger.warn('rebuild requested for a projection this process does not run', { ...request })
          tracker?.rejected(request, `no projection named ${request.name} runs in process ${process.pid}`)
          continue
        }
        tracker?.accepted(
          request,
          published.find((status) => status.name === request.name),
        )
        taken.push(request)
      }
      return taken
    },

    readFailed(name: string, error: unknown) {
      const corrupt = isEskitError(error, 'CORRUPT') || sqliteErrorCode(error) === 'CORRUPT'
      const slot = lives.get(name)?.slot
      if (life.phase !== 'open' || !corrupt || !slot || slot.suspect) return
      // The writer may never touch the damaged page (it only upserts): the reader's word is
      // enough to have the file quick-checked and, if damaged, moved aside and rebuilt.
      logger.warn('a read of the projection found its file damaged; checking it', {
        name,
        file: slot.file,
        error: error instanceof Error ? error.message : String(error),
      })
      slot.markSuspect()
    },

    publishStatus(status: readonly ProjectionStatus[]) {
      if (life.phase !== 'open') return
      published = status
      writeStatusFile(dir, status)
      tracker?.observe(status)
    },

    close: () =>
      life.close(async () => {
        for (const build of [...builds]) discardBuild(build)
        for (const live of lives.values()) {
          closeReader(live)
          if (live.slot) await live.slot.close()
        }
        lives.clear()
        tracker?.abandon('the owning process stopped before the rebuild completed')
        lock?.release()
        lock = null
        logger.debug('sqlite store closed', { dir })
      }),
  }
  return store
}

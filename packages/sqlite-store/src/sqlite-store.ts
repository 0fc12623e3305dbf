import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type {
  Logger,
  Projection,
  ProjectionBuild,
  ProjectionSlot,
  ProjectionStatus,
  ProjectionStore,
  StoreCapabilities,
  StoreContext,
  StoreRequest,
} from '@eskit/core'
import { assertProjectionName, EskitError, isEskitError, silentLogger } from '@eskit/core'
import { assertProjectionShape, createLifecycle } from '@eskit/core/adapter'
import { sqliteErrorCode, toEskitError } from '@eskit/core/sqlite'
import Database from 'better-sqlite3'
import { openReader, tuneWriter } from './connection.js'
import { fsyncDirectory, fsyncFile, removeIfExists } from './durability.js'
import { ensureDirectory } from './ensure-directory.js'
import { readFileHeader } from './file-header.js'
import { createFileSlot, type FileSlot } from './file-slot.js'
import {
  type DirectoryLayout,
  directoryLayout,
  projectionFilePath,
  SQLITE_COMPANION_SUFFIXES,
} from './layout.js'
import { METADATA_TABLE, readProjectionMetadata } from './metadata.js'
import { acquireOwnership, type OwnershipLock } from './ownership.js'
import { quarantineFile } from './quarantine.js'
import { createRequestTracker, type RequestTracker } from './request-tracker.js'
import { takeRequestFiles } from './requests.js'
import { writeStatusFile } from './status-file.js'
import { workerBuildSource } from './worker-build.js'

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

interface Live {
  /** The live slot handed to the collector, or null before `openSlot`. */
  slot: FileSlot | null
  /** The cached read-only connection to the live file. */
  reader: Database.Database | null
}

interface Build {
  readonly slot: FileSlot
  finished: boolean
  /** Lent to a worker thread: its connection is closed here until `reclaim()`. */
  lent: boolean
}

const MAX_RESULT_AGE_MS = 7 * 24 * 60 * 60 * 1000

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

  /**
   * Opens an existing projection file and decides whether it can be trusted. Returns the open
   * writer connection and whether it still lacks eskit's tables, or a problem that makes it
   * untrusted. Environment failures (permissions, I/O) are thrown, never treated as corruption.
   */
  const verify = (
    name: string,
    file: string,
  ): { connection: Database.Database; empty: boolean } | { problem: string } => {
    let db: Database.Database
    try {
      // plain open first: nothing is written to a file before it is known to be ours
      db = new Database(file, { timeout: busyTimeoutMs, fileMustExist: true })
    } catch (error) {
      if (sqliteErrorCode(error) === 'CORRUPT') return { problem: (error as Error).message }
      throw toEskitError(error, `could not open projection file ${file}`, { name, file })
    }
    try {
      const objects = db.prepare('select count(*) as n from sqlite_master').get() as { n: number }
      if (objects.n === 0) {
        tuneWriter(db, file, 'live')
        return { connection: db, empty: true }
      }
      const hasMetadata = db
        .prepare(`select 1 from sqlite_master where type = 'table' and name = ?`)
        .get(METADATA_TABLE)
      if (hasMetadata !== undefined && db.prepare(`select 1 from ${METADATA_TABLE}`).get() === undefined) {
        // created by this store and never initialised (initialize writes the row atomically)
        tuneWriter(db, file, 'live')
        return { connection: db, empty: true }
      }
      const metadata = readProjectionMetadata(db)
      if (metadata.name !== name) {
        db.close()
        return { problem: `foreign file: it holds projection ${JSON.stringify(metadata.name)}` }
      }
      if (logId !== undefined && metadata.logId !== logId) {
        // Rebuilt from this log it would lose data the operator may still want (the app pointed
        // at the wrong log): kept in quarantine, recoverable, rather than emptied in place.
        db.close()
        return { problem: `built from another event log (id ${metadata.logId}, this log is ${logId})` }
      }
      if (integrityCheck === 'quick' || suspects.has(name)) {
        const result = db.pragma('quick_check', { simple: true })
        if (result !== 'ok') {
          db.close()
          return { problem: `integrity check failed: ${String(result)}` }
        }
      }
      tuneWriter(db, file, 'live')
      return { connection: db, empty: false }
    } catch (error) {
      db.close()
      if (isEskitError(error, 'CORRUPT') || sqliteErrorCode(error) === 'CORRUPT') {
        return { problem: (error as Error).message }
      }
      throw toEskitError(error, `could not read projection file ${file}`, { name, file })
    }
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
    const fresh = (): FileSlot => {
      // -wal/-shm/-journal without their main file belong to a file that is gone: never pair them
      removeCompanions(file)
      const slot = slotFor(undefined, true)
      fsyncDirectory(dir)
      return slot
    }
    const header = readFileHeader(file)
    if (header.kind === 'missing') return fresh()
    if (header.kind === 'not-sqlite') {
      if (fs.statSync(file).size === 0) {
        // a file created by a crash before its first page was written holds nothing
        removeIfExists(file)
        return fresh()
      }
      quarantineFile(layout, name, file, header.reason, logger)
      return fresh()
    }
    if (!header.wal) {
      // A file in rollback-journal mode has no WAL of its own: a -wal/-shm beside it was left by
      // the file this one replaced (a crash right after a swap) and must not be replayed into it.
      removeIfExists(`${file}-wal`)
      removeIfExists(`${file}-shm`)
    }
    const verdict = verify(name, file)
    if ('problem' in verdict) {
      quarantineFile(layout, name, file, verdict.problem, logger)
      suspects.delete(name)
      return fresh()
    }
    suspects.delete(name)
    return slotFor(verdict.connection, verdict.empty)
  }

  const discardBuild = (build: Build): void => {
    builds.delete(build)
    build.finished = true
    build.slot.retire()
    removeIfExists(build.slot.file)
    removeCompanions(build.slot.file)
  }

  const makeBuild = (projection: Projection<Database.Database>): ProjectionBuild => {
    const name = projection.name
    ensureDirectory(layout.builds)
    const file = path.join(layout.builds, `${name}.${randomBytes(6).toString('hex')}.db`)
    const slot = createFileSlot({ projection, file, mode: 'build', busyTimeoutMs, ensureSchema: true })
    const build: Build = { slot, finished: false, lent: false }
    builds.add(build)
    const assertPending = (): void => {
      if (build.finished) {
        throw new EskitError('INVALID_STATE', `the build of ${name} is already finished`, {
          details: { name },
        })
      }
    }
    const liveFile = projectionFilePath(dir, name)
    const assertHeld = (): void => {
      if (build.lent) {
        throw new EskitError('INVALID_STATE', `the build of ${name} is lent to a worker`, {
          details: { name },
        })
      }
    }

    const swap = async (): Promise<ProjectionSlot> => {
      assertOpen()
      assertPending()
      assertHeld()
      const built = await slot.state()
      if (built === null) {
        throw new EskitError('INVALID_STATE', `the build of ${name} is not initialised`, {
          details: { name },
        })
      }
      if (slot.connection().inTransaction) {
        throw new EskitError('INVALID_STATE', `the build of ${name} has a batch in flight`, {
          details: { name },
        })
      }
      // 1. Make the build durable and self-contained: rollback-journal mode (no WAL to lose), every
      //    page on disk. Its connection closes first: fsync through another descriptor would drop
      //    SQLite's locks on the file.
      try {
        slot.connection().pragma('journal_mode = DELETE')
        slot.detach(false)
        fsyncFile(file)
      } catch (error) {
        reattachBuild()
        throw toEskitError(error, `could not make the build of ${name} durable`, { name })
      }
      // From here to the rename nothing awaits: no reader call can run in between.
      const live = liveOf(name)
      const old = live.slot
      // 2. Close this process's connections to the old file. No checkpoint is forced: the old
      //    file is about to be replaced, and a reader in another process must not stall the swap.
      closeReader(live)
      old?.detach(false)
      // 3. The atomic step: the name now points to the new file, complete and durable.
      try {
        fs.renameSync(file, liveFile)
      } catch (error) {
        restoreOld(old)
        reattachBuild()
        throw toEskitError(error, `could not swap the build of ${name} in`, { name, file: liveFile })
      }
      build.finished = true
      builds.delete(build)
      slot.retire()
      old?.retire()
      if (live.slot === old) live.slot = null
      try {
        fsyncDirectory(dir)
        // 4. A -wal/-shm still beside the name belongs to the old inode: never pair it with the new file.
        removeIfExists(`${liveFile}-wal`)
        removeIfExists(`${liveFile}-shm`)
        // 5. Reopen the writer on the new file; readers reopen lazily on their next query.
        const fresh = openLiveSlot(projection, liveFile)
        live.slot = fresh
        tracker?.swapped(name, built.position)
        logger.debug('projection build swapped in', {
          name,
          version: built.version,
          position: built.position,
        })
        return fresh
      } catch (error) {
        // The new file is in place; the collector notices the closed slot and reopens it.
        throw toEskitError(error, `swapped ${name} in but could not reopen it`, { name, file: liveFile })
      }
    }

    const reattachBuild = (): void => {
      try {
        slot.attach()
      } catch (error) {
        logger.warn('could not reopen a build after a failed swap', { name, error: (error as Error).message })
      }
    }
    const restoreOld = (old: FileSlot | null): void => {
      if (!old) return
      try {
        old.attach()
      } catch (error) {
        logger.warn('could not reopen the live file after a failed swap', {
          name,
          error: (error as Error).message,
        })
      }
    }

    return {
      name,
      state: () => slot.state(),
      initialize: (init) => slot.initialize(init),
      commit: (batch) => slot.commit(batch),
      parked: () => slot.parked(),
      check: () => slot.check(),
      swap,
      lend() {
        assertOpen()
        assertPending()
        assertHeld()
        if (slot.connection().inTransaction) return null
        const source = workerBuildSource(file, busyTimeoutMs)
        if (source === null) return null
        // the exclusive lock of a build connection goes with it: the worker opens its own
        slot.detach(false)
        build.lent = true
        return source
      },
      reclaim() {
        assertPending()
        if (!build.lent) return
        build.lent = false
        try {
          slot.attach()
        } catch (error) {
          throw toEskitError(error, `could not take the build of ${name} back`, { name, file })
        }
      },
      async discard() {
        if (build.finished) return
        discardBuild(build)
      },
      async close() {
        // a build that is closed without being swapped in has no further use
        if (build.finished) return
        discardBuild(build)
      },
    }
  }

  const cleanDirectory = (): void => {
    // leftover builds of a crashed process: never half-served, simply discarded
    for (const entry of safeList(layout.builds)) removeIfExists(path.join(layout.builds, entry))
    for (const entry of safeList(layout.requests)) {
      if (entry.startsWith('.') && entry.endsWith('.tmp')) removeIfExists(path.join(layout.requests, entry))
    }
    const now = Date.now()
    for (const entry of safeList(layout.results)) {
      const file = path.join(layout.results, entry)
      try {
        if (now - fs.statSync(file).mtimeMs > MAX_RESULT_AGE_MS) removeIfExists(file)
      } catch {
        // removed meanwhile
      }
    }
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
        cleanDirectory()
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
      return live.slot
    },

    async beginBuild(projection) {
      assertOpen()
      assertProjection(projection)
      try {
        return makeBuild(projection)
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

function safeList(folder: string): string[] {
  try {
    return fs.readdirSync(folder)
  } catch {
    return []
  }
}

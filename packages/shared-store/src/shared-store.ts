import fs from 'node:fs'
import path from 'node:path'
import {
  assertProjectionName,
  EskitError,
  type Logger,
  type Projection,
  type ProjectionStore,
  type StoreCapabilities,
  type StoreContext,
  silentLogger,
} from '@eskit/core'
import { assertProjectionShape, createLifecycle } from '@eskit/core/adapter'
import { toEskitError } from '@eskit/core/sqlite'
import type Database from 'better-sqlite3'
import { createEskitTables, type OwnedObjectRow } from './eskit-tables.js'
import { acquireOwnershipLock, type OwnershipLock } from './ownership-lock.js'
import { objectKey, ordinaryTables } from './schema-objects.js'
import { createSerialQueue } from './serial-queue.js'
import type { OwnerLookup } from './setup-conflicts.js'
import { checkFormat, openFile, openReader } from './shared-database.js'
import { SharedSlot, type SharedSlotHost } from './shared-slot.js'
import { prepareStatements, type Statements } from './shared-statements.js'
import { inTransaction } from './shared-transactions.js'
import { createWriteGuard, type WriteGuard } from './write-guard.js'

/**
 * Options shared by both forms of {@link sharedStore}.
 *
 * @example
 * ```ts
 * const common: SharedStoreCommonOptions = { logger, guardWrites: true, busyTimeoutMs: 5000 }
 * sharedStore({ path: 'data/app.db', ...common })
 * ```
 */
export interface SharedStoreCommonOptions {
  /** Where the store logs; defaults to the collector's logger. */
  logger?: Logger
  /**
   * Abort any statement by which a projection writes to another projection's table (TEMP
   * triggers on this connection, installed once a second projection shares the database; see
   * the README). Default `true`; `false` saves one trigger check per written row.
   */
  guardWrites?: boolean
  /** How long a write waits for a lock held by another connection (the application's). Default 5000 ms. */
  busyTimeoutMs?: number
}

/**
 * Options of {@link sharedStore}: a database file the store opens, or a connection the application owns.
 *
 * @example
 * ```ts
 * const byPath: SharedStoreOptions = { path: 'data/app.db' }
 * const byConnection: SharedStoreOptions = { database: new Database('data/app.db') }
 * ```
 */
export type SharedStoreOptions =
  | (SharedStoreCommonOptions & { path: string; database?: never })
  | (SharedStoreCommonOptions & { database: Database.Database; path?: never })

/**
 * The shared projection store: a `ProjectionStore` whose connection is the shared better-sqlite3
 * `Database`.
 *
 * @example
 * ```ts
 * const store: SharedStore = sharedStore({ path: 'data/app.db' })
 * store.path // 'data/app.db'
 * ```
 */
export interface SharedStore extends ProjectionStore<Database.Database> {
  /** The database file (undefined when the application handed in its own connection). */
  readonly path: string | undefined
}

const CAPABILITIES: StoreCapabilities = Object.freeze({
  // A rebuild here drops the live tables and rebuilds them in place: there is no second copy to
  // swap in, since two versions of a projection cannot own the same table names in one database.
  buildBeside: false,
  // A projection table dropped underneath (by the application, or by hand to force a rebuild)
  // is noticed between batches through the schema version, like a deleted file per-file.
  detectsLoss: true,
  // No side channel for the CLI; `eskit rebuild` works on per-file directories.
  externalRequests: false,
})

/**
 * The legacy storage strategy: every projection's tables in one shared SQLite database
 * (behaviour 13), alongside the application's own tables if it has any. Checkpoints, ownership
 * and parked events live in `_eskit_*` tables of the same database, so a batch and its
 * checkpoint commit in one transaction. Rebuilding a projection drops and recreates only the
 * tables its `setup` created; two projections claiming one table are refused with `SCHEMA_CONFLICT`.
 *
 * A projection table dropped underneath (the shared-mode counterpart of deleting a file) is
 * noticed and rebuilds that projection only (`capabilities.detectsLoss`).
 *
 * `Conn` is the shared better-sqlite3 `Database`. With `{ path }` the store opens the file (WAL),
 * claims it with a `{path}.eskit-lock` sidecar (a second process gets `LOCKED`) and closes it on
 * `close()`. With `{ database }` it uses the application's connection and never closes it.
 *
 * @example
 * ```ts
 * import { createCollector } from '@eskit/core'
 * import { sharedStore } from '@eskit/shared-store'
 *
 * const collector = createCollector({ events, store: sharedStore({ path: 'data/app.db' }) })
 * collector.add(passView)
 * await collector.start()
 * const passes = collector.reader<Database>('passes.pass_view').prepare('select * from passes').all()
 * ```
 */
export function sharedStore(options: SharedStoreOptions): SharedStore {
  const config = checkOptions(options)
  const queue = createSerialQueue()
  const slots = new Set<SharedSlot>()
  const life = createLifecycle('the shared store')
  let logger: Logger = options.logger ?? silentLogger
  let db: Database.Database | undefined
  let lock: OwnershipLock | undefined
  let readerDb: Database.Database | undefined
  let guard: WriteGuard | undefined
  let sql: Statements | undefined

  const requireOpen = (): { db: Database.Database; sql: Statements } => {
    life.assertOpen()
    if (!db || !sql) throw new EskitError('INVALID_STATE', 'the shared store is not open: call open() first')
    return { db, sql }
  }

  // Guards cost a trigger check per written row, and with a single projection there is nobody
  // to collide with: they go on once a second projection shares the database.
  let guardsActive = false
  const activateGuards = (statements: Statements, conn: Database.Database, including?: string): void => {
    if (!guard || guardsActive) return
    const others = (statements.countOthers.get(including ?? '') as { n: number }).n
    if (others + (including === undefined ? 0 : 1) < 2) return
    const tables = ordinaryTables(conn)
    for (const row of statements.allOwned.all() as OwnedObjectRow[]) {
      if (row.type === 'table' && tables.has(objectKey(row.name))) guard.protect(row.name, row.projection)
    }
    guardsActive = true
  }

  const ownerLookup =
    (statements: Statements): OwnerLookup =>
    (object) =>
      (statements.ownerOf.get(object.type, object.name) as { projection: string } | undefined)?.projection ??
      null

  const host: SharedSlotHost = {
    queue,
    get logger() {
      return logger
    },
    isOpen: () => life.phase === 'open',
    get guard() {
      return guard
    },
    get guardsActive() {
      return guardsActive
    },
    activateGuards(including) {
      if (sql && db) activateGuards(sql, db, including)
    },
    ownerOf: (object) => (sql ? ownerLookup(sql)(object) : null),
    release: (slot) => {
      slots.delete(slot)
    },
  }

  const store: SharedStore = {
    kind: 'sqlite-shared',
    capabilities: CAPABILITIES,
    path: config.path,

    async open(context: StoreContext) {
      life.beginOpen()
      logger = options.logger ?? context.logger ?? silentLogger
      try {
        if (config.path !== undefined) {
          fs.mkdirSync(path.dirname(path.resolve(config.path)), { recursive: true })
          lock = acquireOwnershipLock(config.path)
          db = openFile(config.path, config.busyTimeoutMs)
        } else {
          db = config.database
          if (db.open === false) throw new EskitError('CLOSED', 'the database given to sharedStore is closed')
          if (!db.memory) lock = acquireOwnershipLock(db.name)
        }
        const conn = db
        inTransaction(conn, () => createEskitTables(conn))
        checkFormat(conn)
        sql = prepareStatements(conn)
        if (config.guardWrites) {
          guard = createWriteGuard(conn)
          activateGuards(sql, conn)
        }
        // CLOSED when close() was called while this open was under way
        life.open()
        logger.debug('shared-store: opened', { path: config.path ?? db.name, logId: context.logId })
      } catch (error) {
        releaseAll()
        life.abortOpen()
        throw toEskitError(error, 'could not open the shared store', { path: config.path ?? db?.name })
      }
    },

    async openSlot(projection: Projection<Database.Database>) {
      assertProjectionShape(projection)
      const open = requireOpen()
      const slot = new SharedSlot(projection, open.db, open.sql, host)
      slots.add(slot)
      return slot
    },

    reader(name: string) {
      assertProjectionName(name)
      const open = requireOpen()
      if (open.sql.getState.get(name) === undefined && ![...slots].some((slot) => slot.name === name)) {
        throw new EskitError('NOT_FOUND', `no projection "${name}" in the shared store`, {
          details: { name },
        })
      }
      readerDb ??= openReader(open.db, config.busyTimeoutMs)
      return readerDb
    },

    close() {
      const wasOpen = life.phase === 'open'
      return life.close(async () => {
        if (wasOpen) await queue.idle()
        for (const slot of slots) slot.markClosed()
        slots.clear()
        releaseAll()
      })
    },
  }

  function releaseAll(): void {
    if (readerDb && readerDb !== db) readerDb.close()
    readerDb = undefined
    if (guard && db?.open) {
      try {
        guard.remove()
      } catch (error) {
        logger.warn('shared-store: could not remove the write guards', { error: String(error) })
      }
    }
    guard = undefined
    guardsActive = false
    if (db && config.path !== undefined && db.open) db.close()
    db = undefined
    sql = undefined
    lock?.release()
    lock = undefined
  }

  return store
}

interface CheckedOptions {
  path: string | undefined
  database: Database.Database
  guardWrites: boolean
  busyTimeoutMs: number
}

function checkOptions(options: SharedStoreOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new EskitError('INVALID_ARGUMENT', 'sharedStore needs { path } or { database }')
  }
  const hasPath = options.path !== undefined
  const hasDatabase = options.database !== undefined
  if (hasPath === hasDatabase) {
    throw new EskitError('INVALID_ARGUMENT', 'sharedStore needs exactly one of { path } or { database }')
  }
  if (
    hasPath &&
    (typeof options.path !== 'string' || options.path.length === 0 || options.path === ':memory:')
  ) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      'sharedStore { path } must be a file path (use { database } for memory)',
    )
  }
  if (hasDatabase && typeof (options.database as { prepare?: unknown }).prepare !== 'function') {
    throw new EskitError('INVALID_ARGUMENT', 'sharedStore { database } must be a better-sqlite3 Database')
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new EskitError('INVALID_ARGUMENT', 'busyTimeoutMs must be a non-negative integer')
  }
  return {
    path: options.path,
    database: options.database as Database.Database,
    guardWrites: options.guardWrites ?? true,
    busyTimeoutMs,
  }
}

import fs from 'node:fs'
import path from 'node:path'
import { assertBatchCommit, assertProjectionName, type BatchCommit, EskitError, type Logger, type ParkedEvent, type Projection, type ProjectionSlot, type ProjectionStore, type SlotState, type StoreCapabilities, type StoreContext, type StoredEvent, silentLogger } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import Database from 'better-sqlite3'
import {
  createEskitTables,
  type OwnedObjectRow,
  type ParkedRow,
  type ProjectionRow,
  SHARED_FORMAT_VERSION,
} from './eskit-tables.js'
import { acquireOwnershipLock, type OwnershipLock } from './ownership-lock.js'
import {
  eskitObjectsSignature,
  isVirtualTable,
  listSchemaObjects,
  objectKey,
  ordinaryTables,
  quoteIdentifier,
} from './schema-objects.js'
import { createSerialQueue } from './serial-queue.js'
import {
  assertAttachedToOwnTables,
  assertNoClaimConflicts,
  assertSetupTouchedNothingElse,
  dryRunSetup,
  type OwnerLookup,
  schemaConflict,
} from './setup-conflicts.js'
import { createWriteGuard, parseGuardViolation, type WriteGuard } from './write-guard.js'

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

type TransactionKind = 'transaction' | 'savepoint'

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
export function sharedStore(options: SharedStoreOptions): ProjectionStore<Database.Database> {
  const config = checkOptions(options)
  const queue = createSerialQueue()
  const slots = new Set<SharedSlot>()
  let phase: 'new' | 'opening' | 'open' | 'closed' = 'new'
  let closing: Promise<void> | undefined
  let logger: Logger = options.logger ?? silentLogger
  let db: Database.Database | undefined
  let lock: OwnershipLock | undefined
  let readerDb: Database.Database | undefined
  let guard: WriteGuard | undefined
  let sql: Statements | undefined

  const requireOpen = (): { db: Database.Database; sql: Statements } => {
    if (phase === 'closed') throw new EskitError('CLOSED', 'the shared store is closed')
    if (phase !== 'open' || !db || !sql) {
      throw new EskitError('INVALID_STATE', 'the shared store is not open: call open() first')
    }
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

  const store: ProjectionStore<Database.Database> = {
    kind: 'sqlite-shared',
    capabilities: CAPABILITIES,

    async open(context: StoreContext) {
      if (phase === 'closed') throw new EskitError('CLOSED', 'the shared store is closed')
      if (phase !== 'new') throw new EskitError('INVALID_STATE', 'the shared store is already open')
      phase = 'opening'
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
        // close() may have been called while this open was under way
        if (phase !== 'opening') throw new EskitError('CLOSED', 'the shared store was closed while opening')
        phase = 'open'
        logger.debug('shared-store: opened', { path: config.path ?? db.name, logId: context.logId })
      } catch (error) {
        releaseAll()
        if (phase === 'opening') phase = 'new'
        throw toEskitError(error, 'could not open the shared store', { path: config.path ?? db?.name })
      }
    },

    async openSlot(projection: Projection<Database.Database>) {
      checkProjection(projection)
      const open = requireOpen()
      const slot = new SharedSlot(projection, open.db, open.sql)
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
      if (closing) return closing
      const wasOpen = phase === 'open'
      phase = 'closed'
      closing = (async () => {
        if (wasOpen) await queue.idle()
        for (const slot of slots) slot.markClosed()
        slots.clear()
        releaseAll()
      })()
      return closing
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

  /** One projection's view of the shared database. */
  class SharedSlot implements ProjectionSlot {
    readonly name: string
    #closed = false

    constructor(
      private readonly projection: Projection<Database.Database>,
      private readonly db: Database.Database,
      private readonly sql: Statements,
    ) {
      this.name = projection.name
    }

    markClosed(): void {
      this.#closed = true
    }

    #check(): void {
      if (this.#closed || phase !== 'open') {
        throw new EskitError('CLOSED', `the slot of projection "${this.name}" is closed`, {
          details: { name: this.name },
        })
      }
    }

    state(): Promise<SlotState | null> {
      return queue.run(() => {
        this.#check()
        const row = this.sql.getState.get(this.name) as ProjectionRow | undefined
        if (!row) return null
        const missing = this.#missingTables()
        if (missing.length > 0) {
          // Its checkpoint no longer describes data that exists: the slot starts empty.
          logger.warn('shared-store: tables of the projection are gone; it will be rebuilt', {
            projection: this.name,
            missing,
          })
          return null
        }
        return { position: row.position, version: row.version, logId: row.logId, builtAt: row.builtAt }
      })
    }

    #schemaVersion = -1
    #lost = false

    check(): 'ok' | 'lost' {
      if (this.#closed || phase !== 'open') return 'ok'
      // The schema version moves with every schema change, on any connection: the tables are
      // looked up only when it moved since the last check.
      const version = this.db.pragma('schema_version', { simple: true }) as number
      if (version !== this.#schemaVersion) {
        this.#schemaVersion = version
        this.#lost = this.sql.getPosition.get(this.name) !== undefined && this.#missingTables().length > 0
      }
      return this.#lost ? 'lost' : 'ok'
    }

    #missingTables(): string[] {
      return (this.sql.missingTables.all(this.name) as { name: string }[]).map((row) => row.name)
    }

    initialize(init: { version: string; logId: string }): Promise<void> {
      return queue.run(async () => {
        this.#check()
        if (typeof init?.version !== 'string' || typeof init.logId !== 'string') {
          throw new EskitError('INVALID_ARGUMENT', 'initialize needs { version: string, logId: string }')
        }
        const { db, sql, name, projection } = this
        const ownerOf = ownerLookup(sql)
        // Before touching anything: would setup claim a table that is not this projection's?
        const wanted = await dryRunSetup(projection, logger)
        if (wanted) assertNoClaimConflicts(name, wanted, listSchemaObjects(db), ownerOf)
        this.#check()
        activateGuards(sql, db, name)
        const kind = begin(db)
        try {
          const owned = sql.ownedBy.all(name) as OwnedObjectRow[]
          for (const row of owned) if (row.type === 'table') guard?.unprotect(row.name)
          dropOwnedObjects(db, owned)
          sql.deleteOwned.run(name)
          sql.clearParked.run(name)
          const before = listSchemaObjects(db)
          const eskitBefore = eskitObjectsSignature(db)
          guard?.setCurrent(name)
          try {
            await projection.setup(db)
          } catch (error) {
            throw setupError(name, error, ownerOf)
          }
          assertStillInTransaction(db, kind, name, 'setup')
          const after = listSchemaObjects(db)
          if (eskitObjectsSignature(db) !== eskitBefore) {
            throw new EskitError(
              'SCHEMA_CONFLICT',
              `setup of projection "${name}" changed eskit's own tables: names starting with _eskit_ are reserved`,
              { details: { name, owner: 'eskit' } },
            )
          }
          assertSetupTouchedNothingElse(name, before, after, ownerOf)
          const known = new Set(before.map((object) => `${object.type}:${objectKey(object.name)}`))
          const created = after.filter((object) => !known.has(`${object.type}:${objectKey(object.name)}`))
          assertAttachedToOwnTables(name, created, ownerOf)
          for (const object of created) sql.insertOwned.run(object.name, object.type, object.tableName, name)
          sql.resetState.run(name, init.version, init.logId, new Date().toISOString())
          if (guard && guardsActive) {
            const tables = ordinaryTables(db)
            for (const object of created) {
              if (object.type === 'table' && tables.has(objectKey(object.name)))
                guard.protect(object.name, name)
            }
          }
          guard?.setCurrent(null)
          finish(db, kind)
          logger.info('shared-store: projection initialised', {
            projection: name,
            version: init.version,
            objects: created.map((object) => object.name),
          })
        } catch (error) {
          rollback(db, kind, logger)
          throw toEskitError(error, `could not initialise projection "${name}"`, { name })
        }
      })
    }

    commit(batch: BatchCommit): Promise<void> {
      return queue.run(() => {
        this.#check()
        assertBatchCommit(batch)
        const { db, name, projection } = this
        const kind = begin(db)
        let applied: unknown
        try {
          // Checked before apply too, so a stale batch fails as a conflict, not as apply's error.
          assertCheckpoint(this.sql, name, batch.from)
        } catch (error) {
          rollback(db, kind, logger)
          throw error
        }
        try {
          guard?.setCurrent(name)
          if (batch.events.length > 0) applied = projection.apply(batch.events, db)
        } catch (error) {
          rollback(db, kind, logger)
          throw applyError(name, batch, error)
        }
        // Fast path: a synchronous apply commits without a single await inside the transaction.
        if (!isPromiseLike(applied)) return this.#finishBatch(kind, batch)
        return Promise.resolve(applied).then(
          () => this.#finishBatch(kind, batch),
          (error: unknown) => {
            rollback(db, kind, logger)
            throw applyError(name, batch, error)
          },
        )
      })
    }

    #finishBatch(kind: TransactionKind, batch: BatchCommit): void {
      const { db, sql, name } = this
      try {
        assertStillInTransaction(db, kind, name, 'apply')
        const moved = sql.swapCheckpoint.run(batch.to, name, batch.from).changes
        if (moved !== 1) {
          assertCheckpoint(sql, name, batch.from)
          throw new EskitError('CHECKPOINT_CONFLICT', `checkpoint of projection "${name}" did not move`, {
            details: { name, expected: batch.from },
          })
        }
        for (const parked of batch.parked ?? []) {
          sql.park.run(
            name,
            parked.position,
            parked.streamId,
            parked.type,
            parked.error,
            parked.attempts,
            parked.parkedAt,
            JSON.stringify(parked.event),
          )
        }
        guard?.setCurrent(null)
        finish(db, kind)
      } catch (error) {
        rollback(db, kind, logger)
        throw toEskitError(error, `could not commit a batch of projection "${name}"`, { name })
      }
    }

    parked(): Promise<ParkedEvent[]> {
      return queue.run(() => {
        this.#check()
        const rows = this.sql.listParked.all(this.name) as ParkedRow[]
        return rows.map(toParkedEvent)
      })
    }

    async close(): Promise<void> {
      if (this.#closed) return
      this.#closed = true
      slots.delete(this)
    }
  }

  return store
}

interface Statements {
  getState: Database.Statement
  getPosition: Database.Statement
  resetState: Database.Statement
  swapCheckpoint: Database.Statement
  ownedBy: Database.Statement
  allOwned: Database.Statement
  missingTables: Database.Statement
  countOthers: Database.Statement
  ownerOf: Database.Statement
  deleteOwned: Database.Statement
  insertOwned: Database.Statement
  park: Database.Statement
  listParked: Database.Statement
  clearParked: Database.Statement
}

function prepareStatements(db: Database.Database): Statements {
  return {
    getState: db.prepare(
      'SELECT name, version, log_id AS logId, position, built_at AS builtAt FROM _eskit_projections WHERE name = ?',
    ),
    getPosition: db.prepare('SELECT position FROM _eskit_projections WHERE name = ?'),
    resetState: db.prepare(
      `INSERT INTO _eskit_projections (name, version, log_id, position, built_at) VALUES (?, ?, ?, 0, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, log_id = excluded.log_id, position = 0,
       built_at = excluded.built_at`,
    ),
    swapCheckpoint: db.prepare('UPDATE _eskit_projections SET position = ? WHERE name = ? AND position = ?'),
    ownedBy: db.prepare(
      'SELECT name, type, tbl_name AS tableName, projection FROM _eskit_tables WHERE projection = ? ORDER BY rowid',
    ),
    countOthers: db.prepare('SELECT count(*) AS n FROM _eskit_projections WHERE name <> ?'),
    missingTables: db.prepare(
      `SELECT t.name FROM _eskit_tables t WHERE t.projection = ? AND t.type = 'table'
       AND NOT EXISTS (SELECT 1 FROM main.sqlite_master m WHERE m.type = 'table' AND m.name = t.name COLLATE NOCASE)`,
    ),
    allOwned: db.prepare(
      'SELECT name, type, tbl_name AS tableName, projection FROM _eskit_tables ORDER BY rowid',
    ),
    ownerOf: db.prepare('SELECT projection FROM _eskit_tables WHERE type = ? AND name = ?'),
    deleteOwned: db.prepare('DELETE FROM _eskit_tables WHERE projection = ?'),
    insertOwned: db.prepare(
      'INSERT INTO _eskit_tables (name, type, tbl_name, projection) VALUES (?, ?, ?, ?)',
    ),
    park: db.prepare(
      `INSERT OR REPLACE INTO _eskit_parked (projection, position, stream_id, type, error, attempts, parked_at, event)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    listParked: db.prepare(
      `SELECT position, stream_id AS streamId, type, error, attempts, parked_at AS parkedAt, event
       FROM _eskit_parked WHERE projection = ? ORDER BY position`,
    ),
    clearParked: db.prepare('DELETE FROM _eskit_parked WHERE projection = ?'),
  }
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

function checkProjection(projection: Projection<Database.Database>): void {
  if (typeof projection !== 'object' || projection === null) {
    throw new EskitError('INVALID_ARGUMENT', 'openSlot needs a projection')
  }
  assertProjectionName(projection.name)
  if (typeof projection.setup !== 'function' || typeof projection.apply !== 'function') {
    throw new EskitError('INVALID_ARGUMENT', `projection "${projection.name}" needs setup() and apply()`, {
      details: { name: projection.name },
    })
  }
}

function assertCheckpoint(sql: Statements, name: string, expected: number): void {
  const row = sql.getPosition.get(name) as { position: number } | undefined
  if (!row) {
    throw new EskitError('INVALID_STATE', `projection "${name}" is not initialised: call initialize first`, {
      details: { name },
    })
  }
  if (row.position !== expected) {
    throw new EskitError(
      'CHECKPOINT_CONFLICT',
      `checkpoint of projection "${name}" is ${row.position}, not ${expected}: the batch was rolled back`,
      { details: { name, expected, actual: row.position } },
    )
  }
}

function checkFormat(db: Database.Database): void {
  const row = db.prepare(`SELECT value FROM _eskit_meta WHERE key = 'format'`).get() as
    | { value: string }
    | undefined
  if (row?.value !== String(SHARED_FORMAT_VERSION)) {
    throw new EskitError('CORRUPT', `unsupported eskit shared-store format ${row?.value ?? '(none)'}`, {
      details: { format: row?.value },
    })
  }
}

function openFile(path: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(path, { timeout: busyTimeoutMs })
  try {
    // WAL: readers (the reader connection, the application) are not blocked by a batch in flight.
    db.pragma('journal_mode = WAL')
    // In WAL mode NORMAL loses no committed batch on a process crash; a power cut may lose the
    // last few, data and checkpoint together, and the collector re-applies them.
    db.pragma('synchronous = NORMAL')
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

function openReader(db: Database.Database, busyTimeoutMs: number): Database.Database {
  // An in-memory database cannot be opened twice: readers share the writer's connection.
  if (db.memory) return db
  return new Database(db.name, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs })
}

function inTransaction(db: Database.Database, work: () => void): void {
  const kind = begin(db)
  try {
    work()
    finish(db, kind)
  } catch (error) {
    rollback(db, kind, silentLogger)
    throw error
  }
}

// Inside a transaction the application opened on its own connection, a savepoint nests in it.
function begin(db: Database.Database): TransactionKind {
  if (db.inTransaction) {
    db.exec('SAVEPOINT eskit_batch')
    return 'savepoint'
  }
  db.exec('BEGIN IMMEDIATE')
  return 'transaction'
}

function finish(db: Database.Database, kind: TransactionKind): void {
  db.exec(kind === 'transaction' ? 'COMMIT' : 'RELEASE eskit_batch')
}

function rollback(db: Database.Database, kind: TransactionKind, logger: Logger): void {
  try {
    if (kind === 'transaction') {
      if (db.inTransaction) db.exec('ROLLBACK')
    } else {
      db.exec('ROLLBACK TO eskit_batch')
      db.exec('RELEASE eskit_batch')
    }
  } catch (error) {
    logger.error('shared-store: rollback failed', {
      error: error instanceof Error ? error.message : String(error),
    })
  }
}

function assertStillInTransaction(
  db: Database.Database,
  kind: TransactionKind,
  name: string,
  step: string,
): void {
  if (kind === 'transaction' && !db.inTransaction) {
    throw new EskitError(
      'PROJECTION_FAILED',
      `projection "${name}" ended the store's transaction in ${step} (COMMIT or ROLLBACK inside a projection is not allowed)`,
      { details: { name } },
    )
  }
}

function dropOwnedObjects(db: Database.Database, owned: readonly OwnedObjectRow[]): void {
  const current = new Map(
    listSchemaObjects(db).map((object) => [`${object.type}:${objectKey(object.name)}`, object]),
  )
  const rank = (row: OwnedObjectRow): number => {
    if (row.type === 'trigger') return 0
    if (row.type === 'view') return 1
    if (row.type === 'index') return 2
    const object = current.get(`table:${objectKey(row.name)}`)
    // A virtual table first: dropping it removes its shadow tables with it.
    return object && isVirtualTable(object) ? 3 : 4
  }
  const ordered = [...owned].sort((a, b) => rank(a) - rank(b))
  for (const row of ordered) db.exec(`DROP ${row.type.toUpperCase()} IF EXISTS ${quoteIdentifier(row.name)}`)
}

/** SQLite failures of the storage, not of the projection's code: never a reason to skip an event. */
const STORAGE_FAILURE = /^SQLITE_(FULL|IOERR|READONLY|CORRUPT|NOTADB|CANTOPEN|PERM|NOMEM|BUSY|LOCKED)/

function isStorageFailure(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
  return STORAGE_FAILURE.test(code)
}

function setupError(name: string, error: unknown, ownerOf: OwnerLookup): EskitError {
  if (isStorageFailure(error)) return toEskitError(error, `setup of projection "${name}" failed`, { name })
  const violation = parseGuardViolation(error)
  if (violation)
    return schemaConflict(name, { type: 'table', name: violation.table }, violation.owner, 'writes to', error)
  const message = error instanceof Error ? error.message : ''
  const exists = /^(table|index|view|trigger) (?:"?)(.+?)(?:"?) already exists$/i.exec(message)
  if (exists) {
    const type = exists[1]!.toLowerCase() as 'table'
    const object = { type, name: exists[2]! }
    return schemaConflict(name, object, ownerOf(object), 'creates', error)
  }
  return new EskitError('PROJECTION_FAILED', `setup of projection "${name}" failed: ${describe(error)}`, {
    cause: error,
    details: { name },
  })
}

function applyError(name: string, batch: BatchCommit, error: unknown): EskitError {
  // a full disk or an I/O error keeps its own code: the collector retries it instead of parking events
  if (isStorageFailure(error)) {
    return toEskitError(error, `could not apply a batch of projection "${name}"`, {
      name,
      from: batch.from,
      to: batch.to,
    })
  }
  const first = batch.events[0]?.position ?? batch.to
  const last = batch.events.at(-1)?.position ?? batch.to
  const violation = parseGuardViolation(error)
  const reason = violation
    ? `it wrote to table "${violation.table}", which belongs to projection "${violation.owner}"`
    : describe(error)
  return new EskitError(
    'PROJECTION_FAILED',
    `projection "${name}" failed to apply events ${first}..${last}: ${reason}`,
    {
      cause: error,
      details: {
        name,
        from: batch.from,
        to: batch.to,
        position: first,
        ...(violation ? { conflict: violation } : {}),
      },
    },
  )
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message
  try {
    return `non-error thrown: ${typeof error === 'string' ? error : JSON.stringify(error)}`
  } catch {
    return `non-error thrown: ${String(error)}`
  }
}

function toParkedEvent(row: ParkedRow): ParkedEvent {
  const stored = JSON.parse(row.event) as Omit<StoredEvent, 'recordedAt'> & { recordedAt: string }
  return {
    position: row.position,
    streamId: row.streamId,
    type: row.type,
    error: row.error,
    attempts: row.attempts,
    parkedAt: row.parkedAt,
    event: { ...stored, recordedAt: new Date(stored.recordedAt) },
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

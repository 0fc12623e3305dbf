import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  type AppendOptions,
  type AppendResult,
  EskitError,
  type EventStore,
  type ExpectedVersion,
  type Logger,
  type NewEvent,
  type ReadAllOptions,
  type StoredEvent,
  silentLogger,
} from '@eskit/core'
import {
  assertReadAllOptions,
  assertStreamId,
  concurrencyError,
  createAppendListeners,
  createLifecycle,
  type EncodedEvent,
  validateAppend,
} from '@eskit/core/adapter'
import { toEskitError } from '@eskit/core/sqlite'
import Database from 'better-sqlite3'
import { createEventReader } from './event-reader.js'
import { type LogFileIdentity, logFileIdentity } from './log-file-identity.js'
import { EVENTS_TABLE, ensureSchema, inspectLog, SCHEMA_VERSION, verifyLog } from './schema.js'

/**
 * Options of {@link openSqliteEventStore} when eskit opens (and owns) the file.
 *
 * @example
 * ```ts
 * const options: SqliteEventStorePathOptions = { path: 'data/events.db', synchronous: 'FULL', busyTimeoutMs: 5000 }
 * const events = openSqliteEventStore(options)
 * ```
 */
export interface SqliteEventStorePathOptions {
  /**
   * The log file. Created with its parent directories when missing; an existing file must be an
   * eskit event log (or empty), anything else is refused with `CORRUPT` and left untouched.
   */
  path: string
  /** Receives a line when an `onAppend` listener throws, and when a log is created or migrated. */
  logger?: Logger
  /**
   * `'FULL'` (default): every committed append survives a power cut or OS crash. `'NORMAL'`: faster
   * commits; a process crash still loses nothing, but a power cut may lose the last appends.
   */
  synchronous?: 'FULL' | 'NORMAL'
  /** How long a write waits for another process's write to finish before `BUSY`. Default 5000. */
  busyTimeoutMs?: number
  /**
   * Open an existing log for reading only (status tools, inspecting a backup): the file must exist
   * and hold a log, nothing is written to it (SQLite may still create its `-wal`/`-shm` side
   * files beside it), and `append` is `READ_ONLY`. Default `false`.
   */
  readonly?: boolean
}

/**
 * Options of {@link openSqliteEventStore} on a better-sqlite3 database the application owns.
 *
 * @example
 * ```ts
 * const db = new Database('data/app.db')
 * db.pragma('journal_mode = WAL')
 * const events = openSqliteEventStore({ database: db } satisfies SqliteEventStoreDatabaseOptions)
 * await events.close() // db stays open: close it yourself
 * ```
 */
export interface SqliteEventStoreDatabaseOptions {
  /**
   * An open better-sqlite3 database. The log's tables are created in it when missing; the
   * application's own tables may live beside them. eskit does not change its pragmas (journal
   * mode, synchronous, busy timeout) and does not close it on `close()`.
   */
  database: Database.Database
  /** Receives a line when an `onAppend` listener throws, and when a log is created or migrated. */
  logger?: Logger
}

/**
 * Options of {@link openSqliteEventStore}: a file path, or a database the application owns.
 *
 * @example
 * ```ts
 * const options: SqliteEventStoreOptions = process.env.EVENTS_DB
 *   ? { path: process.env.EVENTS_DB }
 *   : { path: ':memory:' }
 * const events = openSqliteEventStore(options)
 * ```
 */
export type SqliteEventStoreOptions = SqliteEventStorePathOptions | SqliteEventStoreDatabaseOptions

const DEFAULT_BUSY_TIMEOUT_MS = 5000

/**
 * The first event of an append checks the expected version and takes the next stream version
 * in the same statement (one statement fewer per append than SELECT + INSERT). The aggregate
 * always yields one row; HAVING drops it when the stream is not where the caller expects, so
 * nothing is inserted and no row comes back. The expected version NULL means 'any'. Exported
 * for the query-plan test.
 */
export const INSERT_FIRST_SQL = `INSERT INTO ${EVENTS_TABLE} (stream_id, stream_version, type, data, metadata, recorded_at)
  SELECT ?, coalesce(max(stream_version), 0) + 1, ?, ?, ?, ? FROM ${EVENTS_TABLE} WHERE stream_id = ?
  HAVING ? IS NULL OR coalesce(max(stream_version), 0) = ?
  RETURNING position, stream_version`
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024

/**
 * Opens the embedded event log: one SQLite file (WAL mode) holding every event, with gap-free
 * global positions from 1, per-stream versions with optimistic concurrency, type-filtered reads
 * done in SQL, and a stable log `id`. Several processes may append to the same file; each sees
 * the others' events in `head()` and `readAll`. Implements {@link EventStore} from `@eskit/core`.
 *
 * Errors are `EskitError`s: `INVALID_EVENT`, `INVALID_ARGUMENT`, `CONCURRENCY` (nothing written),
 * `CLOSED`, `CORRUPT` (not an eskit event log, or damaged: never overwritten), `READ_ONLY`, `BUSY`.
 *
 * @example
 * ```ts
 * import { openSqliteEventStore } from '@eskit/sqlite-event-store'
 *
 * const events = openSqliteEventStore({ path: 'data/events.db' })
 * await events.append('pass-1', [{ type: 'PassIssued', data: { holder: 'Ada' } }], {
 *   expectedVersion: 'no-stream',
 * })
 * const batch = await events.readAll({ after: 0, limit: 1000, types: ['PassIssued'] })
 * await events.close()
 * ```
 */
export function openSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  if (typeof options !== 'object' || options === null) {
    throw new EskitError('INVALID_ARGUMENT', 'openSqliteEventStore needs { path } or { database }')
  }
  const logger = options.logger ?? silentLogger
  if ('database' in options && options.database !== undefined) {
    if ('path' in options && (options as { path?: unknown }).path !== undefined) {
      throw new EskitError(
        'INVALID_ARGUMENT',
        'openSqliteEventStore takes { path } or { database }, not both',
      )
    }
    const db = options.database
    assertDatabase(db)
    if (db.inTransaction) {
      // The log's tables would be created inside the application's transaction and vanish with
      // its rollback.
      throw new EskitError('INVALID_STATE', 'open the event store outside of a transaction of the database')
    }
    const location = db.name === ':memory:' || db.name === '' ? 'the given in-memory database' : db.name
    const id = prepareLog(db, location, false, logger)
    return createStore(db, { id, owned: false, logger })
  }
  return openPath(options as SqliteEventStorePathOptions, logger)
}

function openPath(options: SqliteEventStorePathOptions, logger: Logger): EventStore {
  const { path: file } = options
  if (typeof file !== 'string' || file.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', 'openSqliteEventStore: path must be a non-empty string', {
      details: { path: file },
    })
  }
  const synchronous = options.synchronous ?? 'FULL'
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `synchronous must be 'FULL' or 'NORMAL', not ${String(synchronous)}`,
      {
        details: { synchronous },
      },
    )
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `busyTimeoutMs must be an integer >= 0, not ${String(busyTimeoutMs)}`,
      {
        details: { busyTimeoutMs },
      },
    )
  }
  const readonly = options.readonly ?? false
  if (typeof readonly !== 'boolean') {
    throw new EskitError('INVALID_ARGUMENT', `readonly must be a boolean, not ${String(readonly)}`)
  }
  const memory = file === ':memory:'
  if (memory && readonly) {
    throw new EskitError('INVALID_ARGUMENT', 'an in-memory event log cannot be opened read-only')
  }
  if (!memory) prepareLocation(file, readonly)

  let db: Database.Database
  try {
    db = new Database(file, { timeout: busyTimeoutMs, readonly, fileMustExist: readonly })
  } catch (error) {
    throw toEskitError(error, `could not open the event log at ${file}`, { path: file })
  }
  try {
    const id = prepareLog(db, file, true, logger, () => {
      if (readonly) return
      // WAL only once the file is known to be ours or empty: switching journal mode writes to it.
      if (!memory) db.pragma('journal_mode = WAL')
      db.pragma(`synchronous = ${synchronous}`)
      // A huge append grows the -wal file; without a limit it keeps that size after checkpoints.
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`)
    })
    const identity = memory ? undefined : logFileIdentity(path.resolve(file))
    return createStore(db, { id, owned: true, logger, ...(identity ? { identity } : {}) })
  } catch (error) {
    db.close()
    throw toEskitError(error, `could not open the event log at ${file}`, { path: file })
  }
}

/**
 * Refuses a directory as the log path and creates missing parent directories (or, read-only,
 * refuses a missing file with `NOT_FOUND`).
 */
function prepareLocation(file: string, readonly: boolean): void {
  let stat: fs.Stats | undefined
  try {
    stat = fs.statSync(file, { throwIfNoEntry: false })
  } catch (error) {
    throw toEskitError(error, `could not look at ${file}`, { path: file })
  }
  if (stat !== undefined && !stat.isFile()) {
    throw new EskitError('INVALID_ARGUMENT', `${file} is not a file: the event log path must name a file`, {
      details: { path: file },
    })
  }
  if (stat === undefined && readonly) {
    throw new EskitError('NOT_FOUND', `there is no event log at ${file}`, { details: { path: file } })
  }
  if (stat === undefined) {
    try {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    } catch (error) {
      throw toEskitError(error, `could not create the directory of ${file}`, { path: file })
    }
  }
}

/**
 * Checks the database is an eskit event log or empty (without writing), runs `configure`, then
 * creates or migrates the schema, and returns the log's id.
 */
function prepareLog(
  db: Database.Database,
  location: string,
  exclusive: boolean,
  logger: Logger,
  configure?: () => void,
): string {
  const state = inspectLog(db, { exclusive, location })
  try {
    configure?.()
  } catch (error) {
    throw toEskitError(error, `could not configure the event log at ${location}`, { location })
  }
  if (state.kind === 'absent' || state.version < SCHEMA_VERSION) {
    if (db.readonly) {
      throw new EskitError(
        'READ_ONLY',
        state.kind === 'absent'
          ? `${location} holds no event log, and it is opened read-only so none can be created`
          : `${location} needs migrating to schema version ${SCHEMA_VERSION}: open it once writable`,
        { details: { location } },
      )
    }
    const created = ensureSchema(db, {
      exclusive,
      location,
      setApplicationId: exclusive,
      now: Date.now,
      newId: () => globalThis.crypto.randomUUID(),
    })
    if (created) logger.info('created event log', { location })
    else if (state.kind === 'log') {
      logger.info('migrated event log', { location, from: state.version, to: SCHEMA_VERSION })
    }
  }
  return verifyLog(db, location)
}

function assertDatabase(db: unknown): asserts db is Database.Database {
  const candidate = db as Partial<Database.Database> | null
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.prepare !== 'function' ||
    typeof candidate.transaction !== 'function' ||
    typeof candidate.pragma !== 'function'
  ) {
    throw new EskitError('INVALID_ARGUMENT', 'database must be an open better-sqlite3 Database')
  }
  if (candidate.open === false) throw new EskitError('CLOSED', 'the given database is closed')
}

interface StoreContext {
  id: string
  /** Whether `close()` closes the database (true when eskit opened it from a path). */
  owned: boolean
  logger: Logger
  /** The file opened from a path: appends stop once it was deleted or replaced. */
  identity?: LogFileIdentity
}

function createStore(db: Database.Database, context: StoreContext): EventStore {
  const { id, owned, logger, identity } = context
  const reader = createEventReader(db)
  const currentVersion = db
    .prepare<[string], number | null>(`SELECT max(stream_version) FROM ${EVENTS_TABLE} WHERE stream_id = ?`)
    .pluck()
    .safeIntegers(false)
  const insertFirst = db
    .prepare<
      [string, string, string, string | null, number, string, number | null, number | null],
      [number, number]
    >(INSERT_FIRST_SQL)
    .raw()
    .safeIntegers(false)
  const insertNext = db
    .prepare(
      `INSERT INTO ${EVENTS_TABLE} (stream_id, stream_version, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`,
    )
    .safeIntegers(false)
  const headQuery = db
    .prepare<[], number>(`SELECT coalesce(max(position), 0) FROM ${EVENTS_TABLE}`)
    .pluck()
    .safeIntegers(false)

  // One transaction for all events of an append: the version check and every insert commit
  // together, or nothing does.
  const appendInTransaction = db.transaction(
    (
      streamId: string,
      encoded: EncodedEvent[],
      expected: ExpectedVersion,
      recordedAt: number,
    ): AppendResult => {
      const first = encoded[0] as EncodedEvent
      const check = expected === 'any' ? null : expected === 'no-stream' ? 0 : expected
      const inserted = insertFirst.get(
        streamId,
        first.type,
        first.data,
        first.metadata,
        recordedAt,
        streamId,
        check,
        check,
      )
      if (inserted === undefined) {
        const actual = currentVersion.get(streamId) ?? 0
        throw concurrencyError(streamId, expected, actual)
      }
      let [position, version] = inserted
      for (let i = 1; i < encoded.length; i++) {
        const event = encoded[i] as EncodedEvent
        version += 1
        position = Number(
          insertNext.run(streamId, version, event.type, event.data, event.metadata, recordedAt)
            .lastInsertRowid,
        )
      }
      return { position, streamVersion: version }
    },
  )

  const listeners = createAppendListeners(logger)
  const life = createLifecycle('the event store', { open: true })
  /** Set once the file was found deleted or replaced: every later append is refused at once. */
  let lost = false
  const lostError = (): EskitError =>
    new EskitError(
      'LOG_LOST',
      `the event log file ${identity?.file ?? ''} was deleted or replaced while it was open: appends are ` +
        'refused, since they would go to a file no later start reads; restore the file, or restart ' +
        'the application on the log that should be used',
      { details: { path: identity?.file } },
    )
  /** After each append: a vanished or replaced file never acknowledges an append. */
  const assertFileKept = (): void => {
    if (lost) throw lostError()
    if (identity === undefined) return
    let same: boolean
    try {
      same = identity.same()
    } catch (error) {
      throw toEskitError(error, `could not look at the event log file ${identity.file}`, {
        path: identity.file,
      })
    }
    if (!same) {
      lost = true
      logger.error('the event log file was deleted or replaced while open; appends are refused', {
        path: identity.file,
      })
      throw lostError()
    }
  }

  const assertOpen = (): void => {
    life.assertOpen()
    if (!db.open) throw new EskitError('CLOSED', 'the database of the event store was closed')
  }

  return {
    id,
    workerSource() {
      // a file opened by path can be reopened read-only by a build worker; an in-memory log or
      // the application's own database cannot
      if (identity === undefined || lost) return null
      const module = workerModuleUrl()
      if (module === null) return null
      return { module, export: 'openSqliteEventStore', options: { path: identity.file, readonly: true } }
    },
    async append(streamId: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult> {
      assertOpen()
      if (db.readonly) throw new EskitError('READ_ONLY', 'the event log is opened read-only')
      const { encoded, expected } = validateAppend(streamId, events, options)
      if (db.inTransaction) {
        // Inside the application's transaction the events would only be savepointed: listeners
        // would hear of events that a later rollback removes.
        throw new EskitError('INVALID_STATE', 'append cannot run inside an open transaction of the database')
      }
      // Checked once, after the commit: a file deleted or replaced at any moment before the
      // check sends the append to the old inode, and the check refuses to acknowledge it.
      if (lost) throw lostError()
      let result: AppendResult
      try {
        result = appendInTransaction.immediate(streamId, encoded, expected, Date.now())
      } catch (error) {
        throw toEskitError(error, `could not append to stream ${JSON.stringify(streamId)}`, { streamId })
      }
      assertFileKept()
      listeners.notify(result.position)
      return result
    },
    async readAll(options: ReadAllOptions): Promise<StoredEvent[]> {
      assertOpen()
      assertReadAllOptions(options)
      try {
        return reader.readAll(options.after, options.limit, options.types)
      } catch (error) {
        throw toEskitError(error, 'could not read the event log')
      }
    },
    async readStream(streamId: string): Promise<StoredEvent[]> {
      assertOpen()
      assertStreamId(streamId)
      try {
        return reader.readStream(streamId)
      } catch (error) {
        throw toEskitError(error, `could not read stream ${JSON.stringify(streamId)}`, { streamId })
      }
    },
    async head(): Promise<number> {
      assertOpen()
      try {
        return headQuery.get() ?? 0
      } catch (error) {
        throw toEskitError(error, 'could not read the head of the event log')
      }
    },
    onAppend(listener: (head: number) => void): () => void {
      assertOpen()
      return listeners.add(listener)
    },
    close: () =>
      life.close(() => {
        listeners.clear()
        if (!owned || !db.open) return
        try {
          db.close()
        } catch (error) {
          throw toEskitError(error, 'could not close the event log')
        }
      }),
  }
}

let selfUrl: string | null | undefined

/** This package's own published entry, which a worker thread imports, or null if unresolvable. */
function workerModuleUrl(): string | null {
  if (selfUrl !== undefined) return selfUrl
  try {
    selfUrl = pathToFileURL(createRequire(import.meta.url).resolve('@eskit/sqlite-event-store')).href
  } catch {
    selfUrl = null
  }
  return selfUrl
}

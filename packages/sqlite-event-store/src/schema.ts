import { EskitError } from '@eskit/core'
import { sqliteErrorCode, toEskitError } from '@eskit/core/sqlite'
import type BetterSqlite3 from 'better-sqlite3'

/** Table holding the log's identity (`id`, `created_at`) as key/value rows. */
export const META_TABLE = 'eskit_event_log'
/** Table with one row per applied schema migration: the file's schema version is its max. */
export const SCHEMA_TABLE = 'eskit_event_log_schema'
/** The event table. */
export const EVENTS_TABLE = 'events'
/** Index that makes type-filtered reads an index lookup. */
export const TYPE_INDEX = 'events_type_position'
/** Index that makes `readStream` and the stream-version check an index lookup. */
export const STREAM_INDEX = 'events_stream_version'

/**
 * `PRAGMA application_id` of a log file created through `{ path }` ("ESKL"): lets `file(1)` and
 * eskit tell an event log from another SQLite file.
 */
export const APPLICATION_ID = 0x45534b4c

/** Columns of `events`, in order: checked on open so a damaged or foreign table is refused. */
export const EVENT_COLUMNS = [
  'position',
  'stream_id',
  'stream_version',
  'type',
  'data',
  'metadata',
  'recorded_at',
] as const

interface Migration {
  readonly version: number
  readonly sql: string
}

/**
 * Every schema change, in order. A release that changes the schema appends a migration; opening
 * an older log applies the missing ones in one transaction.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE ${SCHEMA_TABLE} (
        version INTEGER PRIMARY KEY,
        applied_at INTEGER NOT NULL
      );
      CREATE TABLE ${META_TABLE} (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE ${EVENTS_TABLE} (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id TEXT NOT NULL,
        stream_version INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        metadata TEXT,
        recorded_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX ${STREAM_INDEX} ON ${EVENTS_TABLE} (stream_id, stream_version);
      CREATE INDEX ${TYPE_INDEX} ON ${EVENTS_TABLE} (type, position);
    `,
  },
]

/** The schema version this release writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0

/** What a database holds, as far as the event log is concerned. */
export type LogState =
  /** No event log yet, and nothing that forbids creating one. */
  | { kind: 'absent' }
  /** An eskit event log at this schema version. */
  | { kind: 'log'; version: number }

/** How strictly to treat objects that are not the log's. */
export interface InspectOptions {
  /**
   * `true` for a file opened by path: it must be an eskit event log or empty. `false` for a
   * database handed over by the user, which may hold the application's own tables too.
   */
  exclusive: boolean
  /** For error messages and details. */
  location: string
}

/**
 * Reads (never writes) what the database holds and refuses anything that is not an eskit event
 * log or empty: `CORRUPT` for a file that is not SQLite, damaged, another program's database, or
 * a log written by a newer release.
 */
export function inspectLog(db: BetterSqlite3.Database, options: InspectOptions): LogState {
  const { location } = options
  let names: Set<string>
  let applicationId: number
  try {
    applicationId = Number(db.pragma('application_id', { simple: true }))
    const rows = db
      .prepare("SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
      .pluck()
      .all() as string[]
    names = new Set(rows)
  } catch (error) {
    throw corrupt(error, location)
  }
  const hasMeta = names.has(META_TABLE)
  const hasSchema = names.has(SCHEMA_TABLE)
  if (hasMeta && hasSchema) {
    const version = readSchemaVersion(db, location)
    if (version > SCHEMA_VERSION) {
      throw new EskitError(
        'CORRUPT',
        `${location} is an eskit event log of schema version ${version}, newer than this release understands (${SCHEMA_VERSION}); upgrade @eskit/sqlite-event-store`,
        { details: { location, version, supported: SCHEMA_VERSION } },
      )
    }
    return { kind: 'log', version }
  }
  if (hasMeta || hasSchema) {
    throw new EskitError('CORRUPT', `${location} holds part of an eskit event log schema: it is damaged`, {
      details: { location, tables: [...names] },
    })
  }
  if (options.exclusive && applicationId !== 0 && applicationId !== APPLICATION_ID) {
    throw new EskitError(
      'CORRUPT',
      `${location} is not an eskit event log: it is a SQLite database of another application (application_id ${applicationId})`,
      { details: { location, applicationId } },
    )
  }
  if (names.has(EVENTS_TABLE) || (options.exclusive && names.size > 0)) {
    throw new EskitError(
      'CORRUPT',
      `${location} is not an eskit event log: it holds other tables (${[...names].slice(0, 5).join(', ')}); refusing to write to it`,
      { details: { location, tables: [...names] } },
    )
  }
  return { kind: 'absent' }
}

/**
 * Creates the log or migrates it to {@link SCHEMA_VERSION}, in one `BEGIN IMMEDIATE` transaction
 * that looks again at the file first: another process may have created or migrated it meanwhile.
 * Returns whether this call created the log.
 */
export function ensureSchema(
  db: BetterSqlite3.Database,
  options: InspectOptions & { setApplicationId: boolean; now: () => number; newId: () => string },
): boolean {
  const run = db.transaction((): boolean => {
    const state = inspectLog(db, options)
    const from = state.kind === 'log' ? state.version : 0
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue
      db.exec(migration.sql)
      if (migration.version === 1) {
        const insert = db.prepare(`INSERT INTO ${META_TABLE} (key, value) VALUES (?, ?)`)
        insert.run('id', options.newId())
        insert.run('created_at', new Date(options.now()).toISOString())
      }
      db.prepare(`INSERT INTO ${SCHEMA_TABLE} (version, applied_at) VALUES (?, ?)`).run(
        migration.version,
        options.now(),
      )
    }
    if (from === 0 && options.setApplicationId) db.pragma(`application_id = ${APPLICATION_ID}`)
    return from === 0
  })
  try {
    return run.immediate()
  } catch (error) {
    throw toEskitError(error, `could not create or migrate the event log at ${options.location}`, {
      location: options.location,
    })
  }
}

/**
 * Checks what every open relies on (the `id` row, the `events` columns) and returns the log's id;
 * `CORRUPT` when something is missing.
 */
export function verifyLog(db: BetterSqlite3.Database, location: string): string {
  let id: unknown
  let columns: string[]
  try {
    id = db.prepare(`SELECT value FROM ${META_TABLE} WHERE key = 'id'`).pluck().get()
    columns = db.prepare(`SELECT name FROM pragma_table_info('${EVENTS_TABLE}')`).pluck().all() as string[]
  } catch (error) {
    throw corrupt(error, location)
  }
  if (typeof id !== 'string' || id.length === 0) {
    throw new EskitError('CORRUPT', `${location} is damaged: the event log has no id`, {
      details: { location },
    })
  }
  if (columns.join(',') !== EVENT_COLUMNS.join(',')) {
    throw new EskitError('CORRUPT', `${location} is damaged: the events table has unexpected columns`, {
      details: { location, columns },
    })
  }
  return id
}

function readSchemaVersion(db: BetterSqlite3.Database, location: string): number {
  let version: unknown
  try {
    version = db.prepare(`SELECT max(version) FROM ${SCHEMA_TABLE}`).pluck().safeIntegers(false).get()
  } catch (error) {
    throw corrupt(error, location)
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new EskitError('CORRUPT', `${location} is damaged: the event log has no schema version`, {
      details: { location },
    })
  }
  return version
}

// SQLITE_NOTADB / SQLITE_CORRUPT become CORRUPT through the shared mapping; a busy or read-only
// location keeps its own code so the caller can tell "wait" and "permissions" from "damaged".
function corrupt(error: unknown, location: string): EskitError {
  const code = sqliteErrorCode(error)
  const message =
    code === 'CORRUPT'
      ? `${location} is not a readable eskit event log (not SQLite, or damaged)`
      : code === 'READ_ONLY'
        ? `cannot use the event log at ${location}: the location is read-only or not permitted`
        : `could not read the event log schema of ${location}`
  return toEskitError(error, message, { location })
}

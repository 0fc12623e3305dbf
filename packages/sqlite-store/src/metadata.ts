import { assertProjectionName, EskitError } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import type Database from 'better-sqlite3'

/**
 * The version of the on-disk format of a projection file; stored in every file.
 *
 * @example
 * ```ts
 * if (info.formatVersion !== FORMAT_VERSION) logger.warn('written by another eskit version', { formatVersion: info.formatVersion })
 * ```
 */
export const FORMAT_VERSION = 1

/**
 * The single-row table holding a projection file's identity and checkpoint.
 *
 * @example
 * ```ts
 * db.prepare(`select position from ${METADATA_TABLE}`).get()
 * ```
 */
export const METADATA_TABLE = '_eskit_projection'

/**
 * The table holding events parked with `onError: 'skip'`.
 *
 * @example
 * ```ts
 * db.prepare(`select position, error from ${PARKED_TABLE} order by position`).all()
 * ```
 */
export const PARKED_TABLE = '_eskit_parked'

/**
 * Tables whose name starts with this prefix belong to eskit and survive a projection reset.
 *
 * @example
 * ```ts
 * const own = tables.filter((t) => !t.startsWith(ESKIT_TABLE_PREFIX))
 * ```
 */
export const ESKIT_TABLE_PREFIX = '_eskit_'

/**
 * What the metadata table of a projection file holds.
 *
 * @example
 * ```ts
 * const meta: ProjectionMetadata = readProjectionMetadata(db)
 * logger.info('projection', { name: meta.name, version: meta.version, position: meta.position })
 * ```
 */
export interface ProjectionMetadata {
  readonly name: string
  readonly version: string
  /** `id` of the event log the data was built from. */
  readonly logId: string
  /** Last event position whose effects are in the file (0 = none). */
  readonly position: number
  readonly formatVersion: number
  /** When the build from position 0 began (ISO 8601). */
  readonly builtAt: string
}

/**
 * Input of {@link writeProjectionMetadata}.
 *
 * @example
 * ```ts
 * writeProjectionMetadata(db, { name: 'passes.pass_view', version: '1', logId: events.id, position: 0 })
 * ```
 */
export interface ProjectionMetadataInput {
  readonly name: string
  readonly version: string
  readonly logId: string
  readonly position: number
  /** When the build from position 0 began; default now. */
  readonly builtAt?: string | Date
}

/**
 * The SQL that creates eskit's tables in a projection file (idempotent).
 *
 * @example
 * ```ts
 * db.exec(ESKIT_SCHEMA_SQL)
 * ```
 */
export const ESKIT_SCHEMA_SQL = `
create table if not exists ${METADATA_TABLE} (
  id integer primary key check (id = 1),
  name text not null,
  version text not null,
  log_id text not null,
  position integer not null check (position >= 0),
  format_version integer not null,
  built_at text not null
);
create table if not exists ${PARKED_TABLE} (
  position integer primary key,
  stream_id text not null,
  type text not null,
  error text not null,
  attempts integer not null,
  parked_at text not null,
  event text not null
);`

/**
 * Creates eskit's tables in `db` (if missing) and writes the metadata row, making the database
 * a projection file in exactly the format `sqliteStore` reads. Runs in a transaction of its own
 * unless one is open, so it joins the caller's. Used by `migrateSharedToFiles` to produce files.
 *
 * Close such a database in rollback-journal mode (`journal_mode = DELETE`, SQLite's default)
 * so the file is self-contained at rest, as `sqliteStore` leaves its files.
 *
 * @example
 * ```ts
 * const db = new Database('data/projections/passes.pass_view.db')
 * db.exec('create table passes (id text primary key, holder text)')
 * writeProjectionMetadata(db, { name: 'passes.pass_view', version: '3', logId: events.id, position: 1200 })
 * db.close()
 * ```
 */
export function writeProjectionMetadata(db: Database.Database, metadata: ProjectionMetadataInput): void {
  assertProjectionName(metadata.name)
  if (typeof metadata.version !== 'string' || metadata.version.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', 'metadata version must be a non-empty string')
  }
  if (typeof metadata.logId !== 'string' || metadata.logId.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', 'metadata logId must be a non-empty string')
  }
  if (!Number.isSafeInteger(metadata.position) || metadata.position < 0) {
    throw new EskitError('INVALID_ARGUMENT', 'metadata position must be an integer >= 0', {
      details: { position: metadata.position },
    })
  }
  const builtAt =
    metadata.builtAt === undefined
      ? new Date().toISOString()
      : metadata.builtAt instanceof Date
        ? metadata.builtAt.toISOString()
        : metadata.builtAt
  const write = (): void => {
    db.exec(ESKIT_SCHEMA_SQL)
    db.prepare(
      `insert or replace into ${METADATA_TABLE} (id, name, version, log_id, position, format_version, built_at)
       values (1, ?, ?, ?, ?, ?, ?)`,
    ).run(metadata.name, metadata.version, metadata.logId, metadata.position, FORMAT_VERSION, builtAt)
  }
  try {
    if (db.inTransaction) write()
    else db.transaction(write).immediate()
  } catch (error) {
    throw toEskitError(error, `could not write the metadata of projection ${metadata.name}`, {
      name: metadata.name,
    })
  }
}

/**
 * What {@link readProjectionMetadata} reads through: a better-sqlite3 `Database`, or any
 * connection with the same `prepare(sql).get(...params)` (Node's built-in SQLite).
 *
 * @example
 * ```ts
 * const source: MetadataSource = new Database(file, { readonly: true })
 * ```
 */
export interface MetadataSource {
  prepare(source: string): { get(...params: unknown[]): unknown }
}

/**
 * Reads the metadata row of an open projection database. Throws `CORRUPT` when the database is
 * not an eskit projection file (no or invalid metadata table, unknown format version).
 *
 * @example
 * ```ts
 * const { version, position } = readProjectionMetadata(db)
 * ```
 */
export function readProjectionMetadata(db: MetadataSource): ProjectionMetadata {
  const table = db
    .prepare(`select 1 from sqlite_master where type = 'table' and name = ?`)
    .get(METADATA_TABLE) as unknown
  if (table === undefined) {
    throw new EskitError('CORRUPT', `not an eskit projection file: no ${METADATA_TABLE} table`)
  }
  const row = db
    .prepare(
      `select name, version, log_id, position, format_version, built_at from ${METADATA_TABLE} where id = 1`,
    )
    .get() as Record<string, unknown> | undefined
  if (row === undefined)
    throw new EskitError('CORRUPT', `not an eskit projection file: ${METADATA_TABLE} is empty`)
  const { name, version, log_id, position, format_version, built_at } = row
  if (
    typeof name !== 'string' ||
    typeof version !== 'string' ||
    typeof log_id !== 'string' ||
    typeof position !== 'number' ||
    !Number.isSafeInteger(position) ||
    position < 0 ||
    typeof format_version !== 'number' ||
    typeof built_at !== 'string'
  ) {
    throw new EskitError('CORRUPT', `not an eskit projection file: invalid ${METADATA_TABLE} row`)
  }
  if (format_version !== FORMAT_VERSION) {
    throw new EskitError(
      'CORRUPT',
      `unsupported projection file format ${format_version} (expected ${FORMAT_VERSION})`,
      {
        details: { formatVersion: format_version },
      },
    )
  }
  const parked = db.prepare(`select 1 from sqlite_master where type = 'table' and name = ?`).get(PARKED_TABLE)
  if (parked === undefined)
    throw new EskitError('CORRUPT', `not an eskit projection file: no ${PARKED_TABLE} table`)
  return { name, version, logId: log_id, position, formatVersion: format_version, builtAt: built_at }
}

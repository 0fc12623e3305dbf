import type Database from 'better-sqlite3'

/** Format of the eskit tables in a shared database; stored in `_eskit_meta`. */
export const SHARED_FORMAT_VERSION = 1

/**
 * Creates eskit's own tables in a shared database if they are missing. Every name starts with
 * `_eskit_` so they never collide with the application's tables or a projection's.
 *
 * - `_eskit_projections`: one row per projection: checkpoint (`position`), `version`, `log_id`, `built_at`.
 * - `_eskit_tables`: ownership: every table, view, index and trigger a projection's `setup` created.
 * - `_eskit_parked`: events parked with `onError: 'skip'`, per projection.
 * - `_eskit_meta`: the format version.
 *
 * @example
 * ```ts
 * createEskitTables(db)
 * ```
 */
export function createEskitTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS _eskit_meta (
      key TEXT PRIMARY KEY NOT NULL,
      value TEXT NOT NULL
    );
    INSERT OR IGNORE INTO _eskit_meta (key, value) VALUES ('format', '${SHARED_FORMAT_VERSION}');
    CREATE TABLE IF NOT EXISTS _eskit_projections (
      name TEXT PRIMARY KEY NOT NULL,
      version TEXT NOT NULL,
      log_id TEXT NOT NULL,
      position INTEGER NOT NULL,
      built_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS _eskit_tables (
      name TEXT NOT NULL COLLATE NOCASE,
      type TEXT NOT NULL,
      tbl_name TEXT NOT NULL,
      projection TEXT NOT NULL,
      PRIMARY KEY (type, name)
    );
    CREATE INDEX IF NOT EXISTS _eskit_tables_by_projection ON _eskit_tables (projection);
    CREATE TABLE IF NOT EXISTS _eskit_parked (
      projection TEXT NOT NULL,
      position INTEGER NOT NULL,
      stream_id TEXT NOT NULL,
      type TEXT NOT NULL,
      error TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      parked_at TEXT NOT NULL,
      event TEXT NOT NULL,
      PRIMARY KEY (projection, position)
    );
  `)
}

/** A row of `_eskit_projections`. */
export interface ProjectionRow {
  name: string
  version: string
  logId: string
  position: number
  builtAt: string
}

/** A row of `_eskit_tables`. */
export interface OwnedObjectRow {
  name: string
  type: 'table' | 'view' | 'index' | 'trigger'
  tableName: string
  projection: string
}

/** A row of `_eskit_parked`. */
export interface ParkedRow {
  position: number
  streamId: string
  type: string
  error: string
  attempts: number
  parkedAt: string
  event: string
}

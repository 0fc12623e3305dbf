import type Database from 'better-sqlite3'

/** A schema object (table, view, index or trigger) in the `main` schema of a database. */
export interface SchemaObject {
  readonly type: 'table' | 'view' | 'index' | 'trigger'
  readonly name: string
  /** The table an index or trigger belongs to; the object's own name for tables and views. */
  readonly tableName: string
  readonly sql: string | null
}

/** Prefix of every table eskit itself keeps in a shared database. */
export const ESKIT_PREFIX = '_eskit_'

/**
 * Lists the `main` schema objects that projections and applications own: everything except
 * SQLite's internal objects (`sqlite_*`, including automatic indexes) and eskit's own tables.
 *
 * @example
 * ```ts
 * const before = listSchemaObjects(db)
 * ```
 */
export function listSchemaObjects(db: Database.Database): SchemaObject[] {
  const rows = db
    .prepare(
      `SELECT type, name, tbl_name AS tableName, sql FROM main.sqlite_master
       WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_eskit\\_%' ESCAPE '\\'
       ORDER BY rowid`,
    )
    .all() as SchemaObject[]
  return rows
}

/**
 * eskit's own objects in a shared database (`_eskit_*`), with their SQL: setup must leave them alone.
 *
 * @example
 * ```ts
 * const before = eskitObjectsSignature(db)
 * ```
 */
export function eskitObjectsSignature(db: Database.Database): string {
  const rows = db
    .prepare(
      `SELECT type, name, sql FROM main.sqlite_master WHERE name LIKE '\\_eskit\\_%' ESCAPE '\\' ORDER BY name`,
    )
    .all()
  return JSON.stringify(rows)
}

/** Case-insensitive key of an object name: SQLite identifiers ignore ASCII case. */
export function objectKey(name: string): string {
  return name.toLowerCase()
}

/**
 * Quotes an identifier for SQL text.
 *
 * @example
 * ```ts
 * db.exec(`DROP TABLE IF EXISTS ${quoteIdentifier('my "table"')}`)
 * ```
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Quotes a string literal for SQL text (used where SQLite accepts no parameter, e.g. RAISE). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/** True for `CREATE VIRTUAL TABLE` objects (their shadow tables come and go with them). */
export function isVirtualTable(object: SchemaObject): boolean {
  return object.type === 'table' && /^\s*create\s+virtual\s+table/i.test(object.sql ?? '')
}

/**
 * The ordinary tables of the `main` schema (no virtual or shadow tables), by lower-cased name.
 *
 * @example
 * ```ts
 * ordinaryTables(db).has('passes')
 * ```
 */
export function ordinaryTables(db: Database.Database): Set<string> {
  const rows = db
    .prepare(`SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table'`)
    .all() as {
    name: string
  }[]
  return new Set(rows.map((row) => objectKey(row.name)))
}

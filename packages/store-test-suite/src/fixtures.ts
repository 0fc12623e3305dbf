import type { MemoryConnection } from '@eskit/core'

/**
 * A row the suite's test projections write: one per applied event.
 *
 * @example
 * ```ts
 * const row: SuiteRow = { id: '7', position: 7, type: 'Issued', value: '1:Issued:{"n":7}' }
 * ```
 */
export interface SuiteRow {
  /** The event's position, as text. */
  id: string
  position: number
  type: string
  /** `{version}:{type}:{JSON data}`: tells which projection version wrote it. */
  value: string
}

/**
 * How the suite writes its test projections for a store's connection type: create a table,
 * insert a row, read the rows back through a reader connection (ordered by position).
 *
 * @example
 * ```ts
 * const fixture: ProjectionFixture<MyConn> = {
 *   setup: (conn, table) => conn.createTable(table),
 *   insert: (conn, table, row) => conn.insert(table, row),
 *   rows: (conn, table) => conn.all(table).sort((a, b) => a.position - b.position),
 * }
 * ```
 */
export interface ProjectionFixture<Conn> {
  /** Creates `table` (columns id text primary key, position, type, value); runs inside `setup`. */
  setup(conn: Conn, table: string): void | Promise<void>
  /** Inserts one row (a second row with the same id must fail); runs inside `apply`. */
  insert(conn: Conn, table: string, row: SuiteRow): void | Promise<void>
  /** Every row of `table` ordered by position, read through a reader connection. */
  rows(conn: Conn, table: string): SuiteRow[] | Promise<SuiteRow[]>
}

/**
 * The part of a better-sqlite3 `Database` the SQLite fixture uses, typed structurally so this
 * package does not depend on better-sqlite3.
 *
 * @example
 * ```ts
 * const db: SqliteLike = new Database(':memory:') // a better-sqlite3 Database fits
 * sqliteFixture.setup(db, 'rows')
 * ```
 */
export interface SqliteLike {
  exec(sql: string): unknown
  prepare(sql: string): { run(...args: unknown[]): unknown; all(...args: unknown[]): unknown[] }
}

const TABLE = /^[A-Za-z_][A-Za-z0-9_]*$/

function quoted(table: string): string {
  if (!TABLE.test(table))
    throw new Error(`suite table name ${JSON.stringify(table)} is not a plain identifier`)
  return `"${table}"`
}

/**
 * The fixture for SQLite-based stores (`sqliteStore`, `sharedStore`, or any store whose
 * connection is a better-sqlite3 `Database`).
 *
 * @example
 * ```ts
 * runProjectionStoreSuite({
 *   name: 'sqliteStore',
 *   createStore: (location) => sqliteStore({ dir: location }),
 *   fixture: sqliteFixture,
 * })
 * ```
 */
export const sqliteFixture: ProjectionFixture<SqliteLike> = {
  setup(db, table) {
    db.exec(
      `create table ${quoted(table)} (id text primary key, position integer not null, type text not null, value text not null)`,
    )
  },
  insert(db, table, row) {
    db.prepare(`insert into ${quoted(table)} (id, position, type, value) values (?, ?, ?, ?)`).run(
      row.id,
      row.position,
      row.type,
      row.value,
    )
  },
  rows(db, table) {
    return db
      .prepare(`select id, position, type, value from ${quoted(table)} order by position`)
      .all() as SuiteRow[]
  },
}

/**
 * The fixture for `memoryStore()` from `@eskit/core`.
 *
 * @example
 * ```ts
 * runProjectionStoreSuite({ name: 'memoryStore', createStore: () => memoryStore(), fixture: memoryFixture })
 * ```
 */
export const memoryFixture: ProjectionFixture<MemoryConnection> = {
  setup(conn, table) {
    conn.createTable(table)
  },
  insert(conn, table, row) {
    const rows = conn.table<SuiteRow>(table)
    if (rows.has(row.id)) throw new Error(`duplicate row ${row.id} in ${table}`)
    rows.set(row.id, row)
  },
  rows(conn, table) {
    return conn
      .table<SuiteRow>(table)
      .values()
      .sort((a, b) => a.position - b.position)
  },
}

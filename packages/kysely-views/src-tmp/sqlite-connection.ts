/**
 * The part of a better-sqlite3 `Statement` that eskit views use. Typed structurally so the
 * package needs no runtime or type dependency on better-sqlite3: its `Statement` fits.
 *
 * @example
 * ```ts
 * const statement: SqliteStatement = database.prepare('select 1 as one')
 * statement.get() // { one: 1 }
 * ```
 */
export interface SqliteStatement {
  readonly source: string
  /** True when the statement returns rows (a select, or a write with `returning`). */
  readonly reader: boolean
  /** True when the statement does not change the database. */
  readonly readonly: boolean
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
}

/**
 * The part of a better-sqlite3 `Database` that eskit views use: what `sqliteStore` and
 * `sharedStore` hand to a projection's `setup` and `apply`, and what `collector.reader()` returns.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * const connection: SqliteConnection = new Database(':memory:')
 * ```
 */
export interface SqliteConnection {
  prepare(source: string): SqliteStatement
  exec(source: string): unknown
  readonly inTransaction: boolean
}

/**
 * Converts a JavaScript value to one SQLite can bind: booleans → 1/0, `Date` → ISO 8601 text,
 * `undefined` → null, plain objects and arrays → JSON text. Strings, numbers, bigints, null and
 * buffers pass through unchanged.
 *
 * @example
 * ```ts
 * toSqliteValue(true)                 // 1
 * toSqliteValue(new Date(0))          // '1970-01-01T00:00:00.000Z'
 * toSqliteValue({ tags: ['a'] })      // '{"tags":["a"]}'
 * ```
 */
export function toSqliteValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
      return value
    case 'boolean':
      return value ? 1 : 0
    case 'undefined':
      return null
    case 'object':
      if (value === null || ArrayBuffer.isView(value)) return value
      if (value instanceof Date) return value.toISOString()
      // better-sqlite3 would read a plain object as named parameters; JSON text is what a
      // SQLite JSON column holds.
      return JSON.stringify(value)
    default:
      return value
  }
}

import { EskitError } from './eskit-error.js'

/**
 * A row key of a {@link MemoryTable}: `1` and `'1'` are different keys.
 *
 * @example
 * ```ts
 * const key: MemoryKey = event.data.passId
 * conn.table('passes').set(key, { scans: 0 })
 * ```
 */
export type MemoryKey = string | number

/**
 * One table of a {@link MemoryConnection}: rows keyed by id. Rows are copied on the way in and
 * out (`structuredClone`), so changing an object after `set` or `get` changes nothing stored.
 *
 * @example
 * ```ts
 * const passes = conn.table<{ holder: string; scans: number }>('passes')
 * passes.set('p-1', { holder: 'Ada', scans: 0 })
 * passes.get('p-1')?.scans // 0
 * ```
 */
export interface MemoryTable<Row = Record<string, unknown>> {
  get(id: MemoryKey): Row | undefined
  has(id: MemoryKey): boolean
  /** Inserts or replaces the row with this id. */
  set(id: MemoryKey, row: Row): void
  /** True when a row was deleted. */
  delete(id: MemoryKey): boolean
  /** Every row, in insertion order. */
  values(): Row[]
  /** Every `[id, row]`, in insertion order. */
  entries(): Array<[MemoryKey, Row]>
  /** Removes every row. */
  clear(): void
  readonly size: number
}

/**
 * What a projection running on `memoryStore()` gets as its connection: named tables of rows
 * keyed by id. Inside `setup`/`apply` it is writable and transactional (a throw leaves no
 * trace); from `collector.reader(name)` it is read-only and always shows the live data.
 *
 * @example
 * ```ts
 * const count: Projection<MemoryConnection> = {
 *   name: 'passes.count',
 *   version: '1',
 *   setup: (conn) => conn.createTable('counts'),
 *   apply: (events, conn) => {
 *     const n = conn.table<{ n: number }>('counts').get('all')?.n ?? 0
 *     conn.table('counts').set('all', { n: n + events.length })
 *   },
 * }
 * ```
 */
export interface MemoryConnection {
  /** The table `name`; writing to a table that does not exist yet creates it. */
  table<Row = Record<string, unknown>>(name: string): MemoryTable<Row>
  /** Creates an empty table unless it exists. */
  createTable(name: string): void
  dropTable(name: string): void
  hasTable(name: string): boolean
  tableNames(): string[]
  readonly readOnly: boolean
}

/** Tables of one projection: never mutated once published (copy-on-write), so readers see a consistent state. */
export type MemoryTables = ReadonlyMap<string, ReadonlyMap<MemoryKey, unknown>>

/** A writable connection that collects changes over `base`; `result()` gives the new tables. */
export interface MemoryTransaction {
  readonly conn: MemoryConnection
  /** The tables with every change applied (the base is left untouched). */
  result(): MemoryTables
  /** Makes the connection unusable (a projection keeping it after its batch gets `CLOSED`). */
  end(): void
}

/** Starts a transaction over `base`. */
export function beginMemoryTransaction(base: MemoryTables): MemoryTransaction {
  // null = dropped in this transaction; a Map = this transaction's private copy of the table
  const changed = new Map<string, Map<MemoryKey, unknown> | null>()
  let ended = false
  const assertActive = (): void => {
    if (ended) throw new EskitError('CLOSED', 'this memory connection belongs to a finished batch')
  }
  const current = (name: string): ReadonlyMap<MemoryKey, unknown> | undefined => {
    if (changed.has(name)) return changed.get(name) ?? undefined
    return base.get(name)
  }
  const writable = (name: string): Map<MemoryKey, unknown> => {
    const own = changed.get(name)
    if (own) return own
    const copy = new Map(current(name) ?? [])
    changed.set(name, copy)
    return copy
  }
  const conn: MemoryConnection = {
    readOnly: false,
    table<Row>(name: string): MemoryTable<Row> {
      assertTableName(name)
      return tableView<Row>(
        () => {
          assertActive()
          return current(name)
        },
        () => {
          assertActive()
          return writable(name)
        },
      )
    },
    createTable(name) {
      assertActive()
      assertTableName(name)
      if (!current(name)) changed.set(name, new Map())
    },
    dropTable(name) {
      assertActive()
      assertTableName(name)
      changed.set(name, null)
    },
    hasTable(name) {
      assertActive()
      return current(name) !== undefined
    },
    tableNames() {
      assertActive()
      const names = new Set([...base.keys(), ...changed.keys()])
      return [...names].filter((name) => current(name) !== undefined).sort()
    },
  }
  return {
    conn,
    result() {
      const next = new Map(base)
      for (const [name, table] of changed) {
        if (table === null) next.delete(name)
        else next.set(name, table)
      }
      return next
    },
    end() {
      ended = true
    },
  }
}

/** A read-only connection over whatever `tables()` returns at the moment of each call. */
export function memoryReader(tables: () => MemoryTables): MemoryConnection {
  const readOnly = (): never => {
    throw new EskitError('INVALID_STATE', 'a reader connection is read-only: write in setup/apply')
  }
  return {
    readOnly: true,
    table<Row>(name: string): MemoryTable<Row> {
      return tableView<Row>(() => tables().get(name), readOnly)
    },
    createTable: readOnly,
    dropTable: readOnly,
    hasTable: (name) => tables().has(name),
    tableNames: () => [...tables().keys()].sort(),
  }
}

function tableView<Row>(
  read: () => ReadonlyMap<MemoryKey, unknown> | undefined,
  write: () => Map<MemoryKey, unknown>,
): MemoryTable<Row> {
  return {
    get(id) {
      const row = read()?.get(id)
      return row === undefined ? undefined : (structuredClone(row) as Row)
    },
    has(id) {
      return read()?.has(id) ?? false
    },
    set(id, row) {
      assertKey(id)
      write().set(id, structuredClone(row))
    },
    delete(id) {
      if (!read()?.has(id)) return false
      return write().delete(id)
    },
    values() {
      return [...(read()?.values() ?? [])].map((row) => structuredClone(row) as Row)
    },
    entries() {
      return [...(read()?.entries() ?? [])].map(([id, row]) => [id, structuredClone(row) as Row])
    },
    clear() {
      write().clear()
    },
    get size() {
      return read()?.size ?? 0
    },
  }
}

function assertTableName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', 'a table name must be a non-empty string')
  }
}

function assertKey(id: unknown): void {
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
    throw new EskitError('INVALID_ARGUMENT', 'a row id must be a string or a finite number')
  }
}

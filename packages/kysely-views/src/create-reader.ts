import { EskitError } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import { type CompiledQuery, type DatabaseConnection, type Driver, Kysely, type QueryResult } from 'kysely'
import { connectionState, statementFor } from './connection-state.js'
import type { View } from './define-view.js'
import { QueryFailure } from './query-failure.js'
import { type SqliteConnection, toSqliteValue } from './sqlite-connection.js'
import { sqliteDialect } from './sqlite-dialect.js'

/**
 * Where a reader gets its connection: a `Collector` (or a `ProjectionStore`), asked per query so
 * a rebuild's swap is followed.
 *
 * @example
 * ```ts
 * const fromStore = createReader(store satisfies ReaderSource, passView)
 * ```
 */
export interface ReaderSource {
  reader(name: string): unknown
  /** Told of every failed query (a collector then has damaged data checked and rebuilt). */
  readFailed?(name: string, error: unknown): void
}

// Statements SQLite counts as read-only but that change the connection: a transaction left open
// or an attached database would leak into the store's own use of the connection.
const CONNECTION_STATEMENT =
  /^\s*(begin|commit|end|rollback|savepoint|release|attach|detach|pragma|vacuum)\b/i

function execute(source: ReaderSource, name: string, query: CompiledQuery): QueryResult<unknown> {
  const connection = source.reader(name) as SqliteConnection
  const { sql } = query
  if (CONNECTION_STATEMENT.test(sql)) throw refused(name, sql)
  try {
    const statement = statementFor(connectionState(connection), sql)
    if (!statement.readonly) throw refused(name, sql)
    const values = query.parameters.map(toSqliteValue)
    if (statement.reader) return { rows: statement.all(values) }
    statement.run(values)
    return { rows: [] }
  } catch (error) {
    if (error instanceof EskitError) throw error
    const original = error instanceof QueryFailure ? error.cause : error
    const failure = toEskitError(original, `reader of view "${name}" failed; SQL: ${sql}`, {
      view: name,
      sql,
    })
    // a damaged page is only found by the query that reads it: the source has the data checked
    source.readFailed?.(name, failure)
    throw failure
  }
}

function refused(name: string, sql: string): EskitError {
  return new EskitError('READ_ONLY', `the reader of view "${name}" is read-only; refused: ${sql}`, {
    details: { view: name, sql },
  })
}

class ReaderConnection implements DatabaseConnection {
  readonly #source: ReaderSource
  readonly #name: string

  constructor(source: ReaderSource, name: string) {
    this.#source = source
    this.#name = name
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return execute(this.#source, this.#name, query) as QueryResult<R>
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    // Rows are read in one go: a better-sqlite3 iterator held open across awaits would keep the
    // connection busy for the store that shares it.
    const { rows } = execute(this.#source, this.#name, query) as QueryResult<R>
    const size = Math.max(1, chunkSize)
    for (let i = 0; i < rows.length; i += size) yield { rows: rows.slice(i, i + size) }
  }
}

class ReaderDriver implements Driver {
  readonly #source: ReaderSource
  readonly #name: string

  constructor(source: ReaderSource, name: string) {
    this.#source = source
    this.#name = name
  }

  async init(): Promise<void> {}

  // Kysely acquires a connection per query: each query asks the source for the live connection.
  async acquireConnection(): Promise<DatabaseConnection> {
    return new ReaderConnection(this.#source, this.#name)
  }

  async beginTransaction(): Promise<void> {
    throw new EskitError(
      'INVALID_STATE',
      `the reader of view "${this.#name}" does not run transactions: each query reads the current live data`,
    )
  }

  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

/**
 * A typed, read-only Kysely for a view's tables, for queries from the application. Every query
 * goes to the projection's current live data (`collector.reader(view.name)`, asked per query):
 * after a rebuild swapped the file it reads the new one, and while a rebuild runs it reads the
 * old one. Writes (and transaction or connection statements) fail with `EskitError('READ_ONLY')`;
 * `transaction()` fails with `INVALID_STATE`. Queries run synchronously on better-sqlite3.
 *
 * @example
 * ```ts
 * const passes = createReader(collector, passView)
 * const pass = await passes.selectFrom('passes').selectAll().where('id', '=', 'p-1').executeTakeFirst()
 * pass?.scans // number
 * ```
 */
export function createReader<Tables>(collector: ReaderSource, view: View<Tables>): Kysely<Tables> {
  if (typeof collector?.reader !== 'function') {
    throw new EskitError(
      'INVALID_ARGUMENT',
      'createReader needs a collector (or a projection store) with reader(name)',
    )
  }
  const name = view?.name
  if (typeof name !== 'string')
    throw new EskitError('INVALID_ARGUMENT', 'createReader needs a view from defineView')
  const dialect = sqliteDialect(() => new ReaderDriver(collector, name))
  return new Kysely<Tables>({ dialect })
}

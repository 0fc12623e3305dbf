import { EskitError } from '@eskit/core'
import { type CompiledQuery, type DatabaseConnection, type Driver, Kysely, type QueryResult } from 'kysely'
import { sqliteDialect } from './sqlite-dialect.js'

const notExecutable = (): EskitError =>
  new EskitError(
    'INVALID_STATE',
    'this Kysely instance only builds queries: return the query from the view handler (or run it with tx.run/tx.first/tx.all) instead of calling execute()',
  )

class BuildOnlyConnection implements DatabaseConnection {
  executeQuery<R>(_query: CompiledQuery): Promise<QueryResult<R>> {
    return Promise.reject(notExecutable())
  }

  // biome-ignore lint/correctness/useYield: it refuses before producing anything
  async *streamQuery<R>(_query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    throw notExecutable()
  }
}

// A driver that refuses to execute: the per-event Kysely only compiles, so an accidental
// `await query.execute()` in a handler fails loudly instead of silently doing nothing.
class BuildOnlyDriver implements Driver {
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return new BuildOnlyConnection()
  }
  async beginTransaction(): Promise<void> {
    throw notExecutable()
  }
  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

let shared: Kysely<any> | undefined

/**
 * The one compile-only Kysely instance (SQLite dialect) used to build and compile migrations,
 * statements and per-event queries. Executing through it throws `INVALID_STATE`.
 */
export function compileOnlyDb<Tables>(): Kysely<Tables> {
  shared ??= new Kysely<any>({
    dialect: sqliteDialect(() => new BuildOnlyDriver()),
  })
  return shared as Kysely<Tables>
}

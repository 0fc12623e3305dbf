import type { Compilable, CompiledQuery, RawBuilder } from 'kysely'
import { compileOnlyDb } from './compile-only-db.ts'

/**
 * What a migration, a handler or `tx` accepts: any Kysely query builder (`Compilable`), a raw
 * `sql` template, or a statement bound with parameters (see `defineStatements`).
 *
 * @example
 * ```ts
 * const queries: ViewQuery[] = [db.deleteFrom('passes'), sql`delete from scans`]
 * ```
 */
export type ViewQuery<O = any> = Compilable<O> | RawBuilder<O>

/**
 * The row type a query produces (`InsertResult` etc. for writes without `returning`).
 *
 * @example
 * ```ts
 * type Row = QueryOutput<typeof query> // { id: string; holder: string }
 * ```
 */
export type QueryOutput<Q> = Q extends Compilable<infer O> ? O : Q extends RawBuilder<infer O> ? O : unknown

/** Compiles any {@link ViewQuery} to SQLite SQL and parameters. */
export function compileViewQuery(query: ViewQuery): CompiledQuery {
  // Builders ignore the argument; a RawBuilder needs an executor provider to compile.
  return (query as RawBuilder<unknown>).compile(compileOnlyDb())
}

/** True when `value` can be compiled as a {@link ViewQuery}. */
export function isViewQuery(value: unknown): value is ViewQuery {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { compile?: unknown }).compile === 'function' &&
    typeof (value as { then?: unknown }).then !== 'function'
  )
}

import type { Compilable, CompiledQuery, QueryId, RootOperationNode } from 'kysely'

/**
 * A statement compiled once by `defineStatements`: its id, name and SQL.
 *
 * @example
 * ```ts
 * const { name, sql } = statements.issue({ id: 'p-1', holder: 'Ada' }).definition
 * ```
 */
export interface StatementDefinition {
  /** Unique per process: the index of its prepared statement in a connection's cache. */
  readonly id: number
  readonly name: string
  readonly sql: string
  readonly query: RootOperationNode
  readonly queryId: QueryId
}

/**
 * A defined statement with its parameter values bound: what `statements.issue({ ... })` returns.
 * Handlers return it (or pass it to `tx.run`/`tx.first`/`tx.all`); it runs its prepared
 * statement with no query building or compiling.
 *
 * @example
 * ```ts
 * const bound = statements.issue({ id: 'p-1', holder: 'Ada' })
 * bound.compile().sql // 'insert into "passes" ("id", "holder", "scans") values (?, ?, 0)'
 * ```
 */
export class BoundQuery<O = unknown> implements Compilable<O> {
  readonly definition: StatementDefinition
  /** The parameter values, already converted to what SQLite binds. */
  readonly values: readonly unknown[]

  constructor(definition: StatementDefinition, values: readonly unknown[]) {
    this.definition = definition
    this.values = values
  }

  compile(): CompiledQuery<O> {
    const { sql, query, queryId } = this.definition
    return { sql, query, queryId, parameters: this.values }
  }
}

import type { CompiledQuery } from 'kysely'
import { BoundQuery } from './bound-query.js'
import { QueryFailure } from './query-failure.js'
import { recordedStep } from './query-recorder.js'
import { compileRecorded } from './recorded-shape.js'
import type { SqliteConnection, SqliteStatement } from './sqlite-connection.js'
import { toSqliteValue } from './sqlite-connection.js'
import { compileViewQuery, isViewQuery, type ViewQuery } from './view-query.js'

// Statements prepared from SQL text that varies (per-event queries, readers) are cached up to
// this many per connection; past it the cache starts over rather than growing without bound.
const MAX_CACHED_SQL = 1000

/** Prepared statements of one connection: by defined-statement id, and by SQL text. */
export interface ConnectionState {
  readonly connection: SqliteConnection
  readonly byId: (SqliteStatement | undefined)[]
  readonly bySql: Map<string, SqliteStatement>
  /** How many view batches are running on the connection now (`tx` works only inside one). */
  running: number
}

const states = new WeakMap<SqliteConnection, ConnectionState>()

/** The statement cache of `connection`, created on first use and dropped with the connection. */
export function connectionState(connection: SqliteConnection): ConnectionState {
  let state = states.get(connection)
  if (state === undefined) {
    state = { connection, byId: [], bySql: new Map(), running: 0 }
    states.set(connection, state)
  }
  return state
}

/** The cached prepared statement for `sql` on the state's connection. */
export function statementFor(state: ConnectionState, sql: string): SqliteStatement {
  let statement = state.bySql.get(sql)
  if (statement === undefined) {
    try {
      statement = state.connection.prepare(sql)
    } catch (error) {
      throw new QueryFailure(sql, error)
    }
    if (state.bySql.size >= MAX_CACHED_SQL) state.bySql.clear()
    state.bySql.set(sql, statement)
  }
  return statement
}

/** A query ready to execute: its statement and its SQLite-bindable parameter values. */
export interface Executable {
  readonly statement: SqliteStatement
  readonly values: readonly unknown[]
}

/** Prepares (or finds) the statement of `query` and binds its parameters. */
export function toExecutable(state: ConnectionState, query: ViewQuery): Executable {
  if (query instanceof BoundQuery) {
    const defined = query.definition
    let statement = state.byId[defined.id]
    if (statement === undefined) {
      try {
        statement = state.connection.prepare(defined.sql)
      } catch (error) {
        throw new QueryFailure(defined.sql, error)
      }
      state.byId[defined.id] = statement
    }
    return { statement, values: query.values }
  }
  const step = recordedStep(query)
  if (step !== undefined) {
    const recorded = compileRecorded(step)
    if ('compiled' in recorded) {
      return { statement: statementFor(state, recorded.compiled.sql), values: recorded.compiled.values }
    }
    if (!isViewQuery(recorded.built)) throw new TypeError('tx takes a Kysely query, and this is not one')
    return toExecutable(state, recorded.built)
  }
  const compiled = compileViewQuery(query)
  return { statement: statementFor(state, compiled.sql), values: bindable(compiled) }
}

function bindable(compiled: CompiledQuery): unknown[] {
  const { parameters } = compiled
  const values = new Array<unknown>(parameters.length)
  for (let i = 0; i < parameters.length; i++) values[i] = toSqliteValue(parameters[i])
  return values
}

/** Runs a write (or a `returning` query, whose rows are discarded). */
export function runQuery(
  state: ConnectionState,
  query: ViewQuery,
): { changes: number; lastInsertRowid: number | bigint } {
  const { statement, values } = toExecutable(state, query)
  try {
    if (statement.reader) {
      const rows = statement.all(values)
      return { changes: rows.length, lastInsertRowid: 0 }
    }
    return statement.run(values)
  } catch (error) {
    throw new QueryFailure(statement.source, error)
  }
}

/** Runs a query and returns all its rows. */
export function allRows(state: ConnectionState, query: ViewQuery): unknown[] {
  const { statement, values } = toExecutable(state, query)
  try {
    if (!statement.reader) {
      statement.run(values)
      return []
    }
    return statement.all(values)
  } catch (error) {
    throw new QueryFailure(statement.source, error)
  }
}

/** Runs a query and returns its first row, or undefined. */
export function firstRow(state: ConnectionState, query: ViewQuery): unknown {
  const { statement, values } = toExecutable(state, query)
  try {
    if (!statement.reader) {
      statement.run(values)
      return undefined
    }
    return statement.get(values)
  } catch (error) {
    throw new QueryFailure(statement.source, error)
  }
}

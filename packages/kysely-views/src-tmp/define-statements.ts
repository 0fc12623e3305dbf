import { EskitError } from '@eskit/core'
import { type Expression, type Kysely, type OperationNode, ValueNode } from 'kysely'
import { BoundQuery, type StatementDefinition } from './bound-query.ts'
import { compileOnlyDb } from './compile-only-db.ts'
import { toSqliteValue } from './sqlite-connection.ts'
import { compileViewQuery, type QueryOutput, type ViewQuery } from './view-query.ts'

declare const paramTypes: unique symbol

/**
 * An optional parameter binds `undefined` as SQL NULL, so its placeholder is typed nullable.
 *
 * @example
 * ```ts
 * type Note = ParamValue<string | undefined> // string | null
 * ```
 */
export type ParamValue<V> = undefined extends V ? Exclude<V, undefined> | null : V

/**
 * The placeholders a statement factory receives: `p.id` stands for the `id` value given when the
 * statement is bound, typed as an `Expression<P['id']>` so Kysely checks it against the column.
 *
 * @example
 * ```ts
 * const statements = defineStatements((db: Kysely<Tables>) => ({
 *   scan: (p: Params<{ id: string; at: string }>) =>
 *     db.updateTable('passes').set({ last_at: p.at }).where('id', '=', p.id),
 * }))
 * ```
 */
export type Params<P extends object> = { readonly [K in keyof P]-?: Expression<ParamValue<P[K]>> } & {
  /** Type-only: carries `P` so the bound statement's argument is typed. */
  readonly [paramTypes]?: P
}

/**
 * The parameters of a statement that takes none.
 *
 * @example
 * ```ts
 * const reset: PreparedStatement<NoParams, UpdateResult> = statements.resetAll
 * reset() // no argument needed
 * ```
 */
export type NoParams = Record<never, never>

/**
 * A statement compiled once: call it with its parameters to get a {@link BoundQuery} that a
 * handler returns (or runs with `tx`). Calling it builds no query and compiles nothing.
 *
 * @example
 * ```ts
 * on: { PassIssued: (e) => statements.issue({ id: e.data.passId, holder: e.data.holder }) }
 * ```
 */
export interface PreparedStatement<P, O> {
  (...params: NoParams extends P ? [params?: P] : [params: P]): BoundQuery<O>
  /** The statement's name in its `defineStatements` object. */
  readonly statementName: string
  /** The compiled SQLite SQL, with `?` placeholders. */
  readonly sql: string
}

/**
 * The prepared statements `defineStatements` returns, one per factory, typed by its `Params`.
 *
 * @example
 * ```ts
 * type PassStatements = Statements<{ find: (p: Params<{ id: string }>) => SelectQueryBuilder<Tables, 'passes', Row> }>
 * // { readonly find: PreparedStatement<{ id: string }, Row> }
 * ```
 */
export type Statements<S> = {
  readonly [K in keyof S]: S[K] extends () => infer Q
    ? PreparedStatement<NoParams, QueryOutput<Q>>
    : S[K] extends (params: Params<infer P>) => infer Q
      ? PreparedStatement<P, QueryOutput<Q>>
      : never
}

/**
 * A statement factory: receives placeholders, returns the query built with them.
 *
 * @example
 * ```ts
 * const find: StatementFactory = (p: Params<{ id: string }>) => db.selectFrom('passes').selectAll().where('id', '=', p.id)
 * ```
 */
export type StatementFactory = (params: any) => ViewQuery

class ParamMarker {
  readonly name: string
  constructor(name: string) {
    this.name = name
  }
}

// An Expression whose node is a parameter value holding a marker: the compiled query's
// parameter list then says, position by position, which named parameter goes where.
class ParamExpression<T> implements Expression<T> {
  readonly #node: OperationNode
  constructor(name: string) {
    this.#node = ValueNode.create(new ParamMarker(name))
  }
  get expressionType(): T | undefined {
    return undefined
  }
  toOperationNode(): OperationNode {
    return this.#node
  }
}

function placeholders(): object {
  const made = new Map<string, ParamExpression<unknown>>()
  return new Proxy(
    {},
    {
      get(_target, key) {
        if (typeof key !== 'string') return undefined
        let expression = made.get(key)
        if (expression === undefined) {
          expression = new ParamExpression(key)
          made.set(key, expression)
        }
        return expression
      },
    },
  )
}

let nextStatementId = 0
const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({})

/**
 * Defines statements once — built with Kysely, type-checked against your tables, compiled once
 * to SQL with `?` placeholders — for view handlers to bind per event. This is the fast way to
 * write a view: per event only the parameter values are bound and a cached prepared statement
 * runs (no query building, no compiling).
 *
 * Each factory takes `Params<{...}>` placeholders and returns any Kysely query; the result is
 * a callable that takes exactly those parameters. Values are bound SQLite-style: booleans as
 * 1/0, `Date` as ISO text, `undefined` as null, plain objects/arrays as JSON text.
 *
 * @example
 * ```ts
 * const statements = defineStatements((db: Kysely<Tables>) => ({
 *   issue: (p: Params<{ id: string; holder: string }>) =>
 *     db.insertInto('passes').values({ id: p.id, holder: p.holder, scans: 0 }),
 *   scan: (p: Params<{ id: string; at: string }>) =>
 *     db.updateTable('passes')
 *       .set((eb) => ({ scans: eb('scans', '+', 1), last_at: p.at }))
 *       .where('id', '=', p.id),
 *   find: (p: Params<{ id: string }>) => db.selectFrom('passes').selectAll().where('id', '=', p.id),
 * }))
 * statements.issue({ id: 'p-1', holder: 'Ada' }) // a BoundQuery, ready to return from a handler
 * ```
 */
export function defineStatements<Tables, S extends Record<string, StatementFactory>>(
  build: (db: Kysely<Tables>) => S,
): Statements<S> {
  const factories = build(compileOnlyDb<Tables>())
  if (typeof factories !== 'object' || factories === null) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      'defineStatements: the builder must return an object of statement factories',
    )
  }
  const result: Record<string, unknown> = {}
  for (const [name, factory] of Object.entries(factories)) {
    if (typeof factory !== 'function') {
      throw new EskitError(
        'INVALID_ARGUMENT',
        `defineStatements: "${name}" is not a function returning a query`,
      )
    }
    result[name] = prepareStatement(name, factory)
  }
  return result as Statements<S>
}

function prepareStatement(name: string, factory: StatementFactory): PreparedStatement<any, unknown> {
  let compiled: ReturnType<typeof compileViewQuery>
  try {
    compiled = compileViewQuery(factory(placeholders()))
  } catch (error) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `defineStatements: statement "${name}" could not be compiled: ${reason(error)}`,
      {
        cause: error,
        details: { statement: name },
      },
    )
  }
  const definition: StatementDefinition = {
    id: nextStatementId++,
    name,
    sql: compiled.sql,
    query: compiled.query,
    queryId: compiled.queryId,
  }
  const count = compiled.parameters.length
  const names: (string | undefined)[] = new Array(count)
  const constants: unknown[] = new Array(count)
  for (let i = 0; i < count; i++) {
    const parameter = compiled.parameters[i]
    if (parameter instanceof ParamMarker) names[i] = parameter.name
    else constants[i] = toSqliteValue(parameter)
  }
  const bind = (params: Readonly<Record<string, unknown>> = EMPTY): BoundQuery<unknown> => {
    const values = new Array<unknown>(count)
    for (let i = 0; i < count; i++) {
      const key = names[i]
      values[i] = key === undefined ? constants[i] : toSqliteValue(params[key])
    }
    return new BoundQuery(definition, values)
  }
  Object.defineProperties(bind, {
    statementName: { value: name, enumerable: true },
    sql: { value: compiled.sql, enumerable: true },
  })
  return bind as unknown as PreparedStatement<any, unknown>
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

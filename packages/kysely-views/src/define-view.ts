import { createHash } from 'node:crypto'
import {
  assertProjectionName,
  EskitError,
  type NewEvent,
  type Projection,
  type StoredEvent,
} from '@eskit/core'
import { sqliteErrorCode, sqliteStorageFault } from '@eskit/core/sqlite'
import type { CompiledQuery, Kysely } from 'kysely'
import { BoundQuery } from './bound-query.js'
import { compileOnlyDb } from './compile-only-db.js'
import { type ConnectionState, connectionState, runQuery, statementFor } from './connection-state.js'
import { QueryFailure } from './query-failure.js'
import { recordedStep, recordingDb, type Step } from './query-recorder.js'
import { compileRecorded } from './recorded-shape.js'
import { type LookupHint, lookupHint } from './shape-cache.js'
import { type SqliteConnection, toSqliteValue } from './sqlite-connection.js'
import { compileViewQuery, isViewQuery, type ViewQuery } from './view-query.js'
import { type ViewTransaction, viewTransaction } from './view-transaction.js'

/**
 * What a handler may return: one query, several (run in order), or nothing.
 *
 * @example
 * ```ts
 * const result: HandlerResult = [statements.issue({ id, holder }), db.deleteFrom('drafts').where('id', '=', id)]
 * ```
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler with a block body and no return is typed void
export type HandlerResult = ViewQuery | readonly ViewQuery[] | undefined | void

/**
 * The event a handler for type `T` receives: narrowed to that member of the union.
 *
 * @example
 * ```ts
 * type Issued = ViewEvent<PassEvent, 'PassIssued'> // StoredEvent<'PassIssued', { passId: string; holder: string }>
 * ```
 */
export type ViewEvent<Events extends NewEvent, T extends Events['type']> = StoredEvent<
  T,
  Extract<Events, { type: T }>['data']
>

/**
 * One optional handler per event type of the union; a key that is not a type of the union, or a
 * payload field the type does not have, is a compile error.
 *
 * @example
 * ```ts
 * const on: ViewHandlers<PassTables, PassEvent> = {
 *   PassIssued: (e) => statements.issue({ id: e.data.passId, holder: e.data.holder }),
 * }
 * ```
 */
export type ViewHandlers<Tables, Events extends NewEvent> = {
  [T in Events['type']]?: (
    event: ViewEvent<Events, T>,
    db: Kysely<Tables>,
    tx: ViewTransaction,
  ) => HandlerResult
}

/**
 * A migration step: returns the schema query (or queries) to run, built with Kysely.
 *
 * @example
 * ```ts
 * const byHolder: ViewMigration = (db) => db.schema.createIndex('passes_by_holder').on('passes').column('holder')
 * ```
 */
export type ViewMigration = (db: Kysely<any>) => ViewQuery | readonly ViewQuery[]

/**
 * The argument of {@link defineView}.
 *
 * @example
 * ```ts
 * const definition: ViewDefinition<PassTables, PassEvent> = { name: 'passes.pass_view', version: '1', migrations, on }
 * ```
 */
export interface ViewDefinition<Tables, Events extends NewEvent> {
  /** The projection name: the file name `{dir}/{name}.db` with `sqliteStore`. */
  name: string
  /** Bump it to force a rebuild; schema changes rebuild on their own (see `View.version`). */
  version: string
  /** Schema steps, run in order on an empty store in one transaction (setup). */
  migrations: readonly ViewMigration[]
  /** Handlers per event type; only these types are read from the log. */
  on: ViewHandlers<Tables, Events>
  /**
   * The URL of the module that defines the view: pass `import.meta.url`. With `export`, builds of
   * the view can run in a worker thread (the collector's `buildWorkers`), which imports the module
   * and takes the view from that export; without them the view builds on the main thread.
   */
  module?: string
  /** The name of the module's export that holds this view (e.g. `'passView'`). */
  export?: string
}

declare const tablesType: unique symbol

/**
 * A projection built by {@link defineView}: runs on `sqliteStore` and `sharedStore` (any store
 * whose connection is a better-sqlite3 `Database`). `Tables` types its readers.
 *
 * @example
 * ```ts
 * const view: View<PassTables> = passView
 * collector.add(view)
 * view.version // '1+3f9c0a12be'
 * ```
 */
export interface View<Tables> extends Projection<SqliteConnection> {
  readonly name: string
  /** `{version}+{fingerprint}`: the explicit version plus a hash of the compiled schema. */
  readonly version: string
  /** The event types with a handler: the only ones the store reads for this view. */
  readonly eventTypes: readonly string[]
  /** The `version` given to `defineView`. */
  readonly baseVersion: string
  /** Short hash of the compiled migration SQL. */
  readonly schemaFingerprint: string
  /** The compiled migration SQL, in order. */
  readonly schema: readonly string[]
  /** Type-only: the view's tables. */
  readonly [tablesType]?: Tables
}

interface MigrationStep {
  readonly migration: number
  readonly compiled: CompiledQuery
}

/**
 * Defines a typed projection with Kysely: schema as migrations, one handler per event type.
 * Handlers run synchronously inside the store's batch transaction; each returns the queries to
 * run (or runs them through `tx`). The `db` a handler gets records its Kysely calls: a query's
 * structure is built and compiled with Kysely once, later events only bind their values (a
 * full rebuild at 0.54–0.59× raw better-sqlite3). For the rest of the speed, return statements
 * from {@link defineStatements} (see the README).
 *
 * @example
 * ```ts
 * interface Tables { passes: { id: string; holder: string; scans: number; last_at: string | null } }
 * type PassEvent =
 *   | { type: 'PassIssued'; data: { passId: string; holder: string } }
 *   | { type: 'PassScanned'; data: { passId: string; at: string } }
 *
 * export const passView = defineView<Tables, PassEvent>({
 *   name: 'passes.pass_view',
 *   version: '1',
 *   migrations: [
 *     (db) => db.schema.createTable('passes')
 *       .addColumn('id', 'text', (c) => c.primaryKey())
 *       .addColumn('holder', 'text', (c) => c.notNull())
 *       .addColumn('scans', 'integer', (c) => c.notNull().defaultTo(0))
 *       .addColumn('last_at', 'text'),
 *   ],
 *   on: {
 *     PassIssued: (e, db) => db.insertInto('passes').values({ id: e.data.passId, holder: e.data.holder, scans: 0 }),
 *     PassScanned: (e, db) =>
 *       db.updateTable('passes')
 *         .set((eb) => ({ scans: eb('scans', '+', 1), last_at: e.data.at }))
 *         .where('id', '=', e.data.passId),
 *   },
 * })
 * ```
 */
export function defineView<Tables, Events extends NewEvent>(
  definition: ViewDefinition<Tables, Events>,
): View<Tables> {
  if (typeof definition !== 'object' || definition === null) {
    throw new EskitError('INVALID_ARGUMENT', 'defineView needs a definition object')
  }
  const { name, version, migrations, on } = definition
  assertProjectionName(name)
  const source = sourceOf(name, definition.module, definition.export)
  if (typeof version !== 'string' || version.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', `view "${name}": version must be a non-empty string`)
  }
  if (!Array.isArray(migrations)) {
    throw new EskitError('INVALID_ARGUMENT', `view "${name}": migrations must be an array of functions`)
  }
  if (typeof on !== 'object' || on === null) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `view "${name}": on must be an object of handlers per event type`,
    )
  }

  type Handler = (event: StoredEvent, db: Kysely<Tables>, tx: ViewTransaction) => HandlerResult
  // Per event type, the handler and where its recorded query was found last time; a Map, since
  // an event type named "constructor" or "toString" must not find a handler.
  const handlers = new Map<string, { handler: Handler; hint: LookupHint }>()
  for (const [type, handler] of Object.entries(on as Record<string, unknown>)) {
    if (handler === undefined) continue
    if (typeof handler !== 'function') {
      throw new EskitError('INVALID_ARGUMENT', `view "${name}": the handler for ${type} is not a function`)
    }
    handlers.set(type, { handler: handler as Handler, hint: lookupHint() })
  }
  const eventTypes = Object.freeze([...handlers.keys()])
  const steps = compileMigrations(name, migrations)
  const schema = Object.freeze(steps.map((step) => step.compiled.sql))
  const schemaFingerprint = fingerprint(steps)
  // Handlers build on a recording db: a query's structure is built and compiled with Kysely once,
  // then each event only binds its values (see recorded-shape.ts).
  const db = recordingDb<Tables>()

  const applyBatch = (state: ConnectionState, events: readonly StoredEvent[]): void => {
    const tx = viewTransaction(state)
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as StoredEvent
      const entry = handlers.get(event.type)
      if (entry === undefined) continue
      try {
        const result = entry.handler(event, db, tx)
        if (result !== undefined && result !== null) execute(state, result, entry.hint)
      } catch (error) {
        throw handlerFailure(name, event, error)
      }
    }
  }

  const view: View<Tables> = {
    name,
    version: `${version}+${schemaFingerprint}`,
    eventTypes,
    baseVersion: version,
    schemaFingerprint,
    schema,
    ...(source ? { source } : {}),
    setup(connection: SqliteConnection): void {
      const state = connectionState(connection)
      atomically(state, () => {
        for (const step of steps) runMigrationStep(name, connection, step)
      })
    },
    apply(events: readonly StoredEvent[], connection: SqliteConnection): void {
      if (events.length === 0) return
      const state = connectionState(connection)
      state.running++
      try {
        atomically(state, () => applyBatch(state, events))
      } finally {
        state.running--
      }
    },
  }
  return Object.freeze(view)
}

/** Where a worker thread imports the view from: both fields, or neither. */
function sourceOf(
  name: string,
  module: unknown,
  exportName: unknown,
): { module: string; export: string } | undefined {
  if (module === undefined && exportName === undefined) return undefined
  if (
    typeof module !== 'string' ||
    module.length === 0 ||
    typeof exportName !== 'string' ||
    exportName.length === 0
  ) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `view "${name}": module and export go together: module: import.meta.url, export: the name of the export`,
    )
  }
  return Object.freeze({ module, export: exportName })
}

function compileMigrations(name: string, migrations: readonly ViewMigration[]): MigrationStep[] {
  const db = compileOnlyDb<any>()
  const steps: MigrationStep[] = []
  migrations.forEach((migration, index) => {
    try {
      if (typeof migration !== 'function') throw new TypeError('not a function')
      const produced = migration(db)
      const queries = Array.isArray(produced) ? produced : [produced]
      for (const query of queries) {
        if (!isViewQuery(query)) throw new TypeError('it must return a Kysely query (or an array of them)')
        steps.push({ migration: index + 1, compiled: compileViewQuery(query) })
      }
    } catch (error) {
      throw new EskitError(
        'INVALID_ARGUMENT',
        `view "${name}": migration ${index + 1} is invalid: ${reason(error)}`,
        {
          cause: error,
          details: { view: name, migration: index + 1 },
        },
      )
    }
  })
  return steps
}

function fingerprint(steps: readonly MigrationStep[]): string {
  const text = JSON.stringify(
    steps.map((step) => [step.compiled.sql, step.compiled.parameters]),
    (_key, value) => (typeof value === 'bigint' ? value.toString() : value),
  )
  return createHash('sha256').update(text).digest('hex').slice(0, 10)
}

function runMigrationStep(name: string, connection: SqliteConnection, step: MigrationStep): void {
  const { sql, parameters } = step.compiled
  try {
    // exec takes several statements (a raw `sql` migration may hold more than one).
    if (parameters.length === 0) connection.exec(sql)
    else connection.prepare(sql).run(parameters.map(toSqliteValue))
  } catch (error) {
    const details = { view: name, migration: step.migration, sql, sqliteCode: codeOf(error) }
    const message = `view "${name}": migration ${step.migration} failed: ${reason(error)}; SQL: ${sql}`
    // the storage's own trouble (full, damaged, read-only) keeps its code: the store retries it
    throw (
      storageFault(error, message, details) ??
      new EskitError('PROJECTION_FAILED', message, { cause: error, details })
    )
  }
}

/** A SQLite storage fault under its own code (the `cause` is SQLite's error), or null. */
function storageFault(error: unknown, message: string, details: Record<string, unknown>): EskitError | null {
  const fault = sqliteStorageFault(error, message, details)
  if (fault === null) return null
  return new EskitError(fault.code, message, { cause: error, details })
}

// Runs `work` inside a savepoint: nested in the store's transaction it undoes only its own
// writes on failure; called outside one, it is a transaction of its own.
function atomically(state: ConnectionState, work: () => void): void {
  statementFor(state, 'SAVEPOINT eskit_view').run()
  try {
    work()
  } catch (error) {
    try {
      statementFor(state, 'ROLLBACK TO eskit_view').run()
      statementFor(state, 'RELEASE eskit_view').run()
    } catch {
      // Some errors (disk full, I/O) already rolled the whole transaction back, savepoint included.
    }
    throw error
  }
  statementFor(state, 'RELEASE eskit_view').run()
}

function execute(
  state: ConnectionState,
  result: ViewQuery | readonly ViewQuery[],
  hint: LookupHint | undefined,
): void {
  // A recording first: checking it is one proxy trap, where instanceof and isArray are more.
  const step = recordedStep(result)
  if (step !== undefined) {
    runRecorded(state, step, hint)
  } else if (result instanceof BoundQuery) {
    runBound(state, result)
  } else if (Array.isArray(result)) {
    for (const item of result as readonly unknown[]) executeOne(state, item)
  } else {
    executeOne(state, result)
  }
}

function executeOne(state: ConnectionState, item: unknown): void {
  const step = recordedStep(item)
  if (step !== undefined) runRecorded(state, step, undefined)
  else if (item instanceof BoundQuery) runBound(state, item)
  else if (isViewQuery(item)) runQuery(state, item)
  else if (typeof (item as { then?: unknown } | null)?.then === 'function') {
    // The promise (e.g. from execute() on the build-only Kysely) rejects too; that rejection is
    // this same mistake, reported here, so it must not surface as an unhandled rejection.
    ;(item as PromiseLike<unknown>).then(undefined, () => {})
    throw new TypeError(
      'the handler returned a Promise: view handlers must be synchronous (return the query instead of executing it)',
    )
  } else throw new TypeError(`the handler returned ${describe(item)}, not a Kysely query`)
}

// The hot path of the recommended style: a cached prepared statement and pre-bound values.
function runBound(state: ConnectionState, query: BoundQuery<unknown>): void {
  const { definition } = query
  let statement = state.byId[definition.id]
  try {
    if (statement === undefined) {
      statement = state.connection.prepare(definition.sql)
      state.byId[definition.id] = statement
    }
    if (statement.reader) statement.all(query.values)
    else statement.run(query.values)
  } catch (error) {
    throw new QueryFailure(definition.sql, error)
  }
}

function runRecorded(state: ConnectionState, step: Step, hint: LookupHint | undefined): void {
  const recorded = compileRecorded(step, hint)
  if ('built' in recorded) {
    // Not a query after all (e.g. `.execute()`'s promise): reported as that value is.
    executeOne(state, recorded.built)
    return
  }
  const { sql, values } = recorded.compiled
  const statement = statementFor(state, sql)
  try {
    if (statement.reader) statement.all(values)
    else statement.run(values)
  } catch (error) {
    throw new QueryFailure(sql, error)
  }
}

function handlerFailure(view: string, event: StoredEvent, error: unknown): EskitError {
  const sql = error instanceof QueryFailure ? error.sql : undefined
  const original = error instanceof QueryFailure ? error.cause : error
  const where = `view "${view}" failed to apply ${event.type} at position ${event.position} (stream "${event.streamId}")`
  const message = `${where}: ${reason(original)}${sql === undefined ? '' : `; SQL: ${sql}`}`
  const details = {
    view,
    eventType: event.type,
    position: event.position,
    streamId: event.streamId,
    ...(sql === undefined ? {} : { sql, sqliteCode: codeOf(original) }),
  }
  // A damaged page or a full disk met by a handler's query is the storage's trouble, not the
  // view's: it keeps its code, so the store retries it (and checks a damaged file) instead of
  // the collector parking the event.
  return (
    storageFault(original, message, details) ??
    new EskitError('PROJECTION_FAILED', message, { cause: original, details })
  )
}

function codeOf(error: unknown): string {
  const raw = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
  return raw.startsWith('SQLITE_') ? raw : sqliteErrorCode(error)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

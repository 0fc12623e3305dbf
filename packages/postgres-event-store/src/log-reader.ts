import { EskitError, type EventStore } from '@eskit/core'
import { createLifecycle } from '@eskit/core/adapter'
import pg from 'pg'
import { createConnections } from './connections.js'
import { resolveTuning } from './options.js'
import { createLogReads } from './reader.js'
import { createRedactor, passwordOf } from './redact.js'
import { assertSchemaName, readLogId } from './schema.js'

/** The `application_name` of a reader's connection, as `pg_stat_activity` shows it. */
export const READER_APPLICATION_NAME = 'eskit-reader'

/**
 * Options of {@link openPostgresLogReader}.
 *
 * @example
 * ```ts
 * const options: PostgresLogReaderOptions = { connectionString: process.env.DATABASE_URL!, schema: 'eskit' }
 * const reader = await openPostgresLogReader(options)
 * ```
 */
export interface PostgresLogReaderOptions {
  /** `postgres://user:password@host:port/database`; the password never appears in errors. */
  connectionString: string
  /** The schema of the log (default `'eskit'`): it must hold a log already; nothing is created. */
  schema?: string
  /** Every call answers within this time or rejects with `UNAVAILABLE`. Default 5000 ms. */
  timeoutMs?: number
  /**
   * The id of the log this reader must find there (`EventStore.id` of the store it reads for):
   * a schema holding another log is `NOT_FOUND`, so a build never reads a log it was not lent.
   */
  id?: string
}

/**
 * Opens a small, read-only handle on an existing PostgreSQL event log: one connection (made on
 * the first call and remade after a loss), no LISTEN, no migrations, no appends. `readAll`,
 * `readStream` and `head` are those of {@link openPostgresEventStore} (same queries, the type
 * filter in SQL, the same deadline and error codes); `append` and `onAppend` are `READ_ONLY`.
 * It is what a collector's build worker thread opens to read the log (see `workerSource()` of
 * the store); tools that only read a log may use it too.
 *
 * Errors are `EskitError`s with the codes of the store: `UNAVAILABLE` (unreachable, no answer
 * within `timeoutMs`), `NOT_FOUND` (no log in the schema, or another log than `id`), `CORRUPT`,
 * `INVALID_ARGUMENT`, `READ_ONLY`, `CLOSED`. Passwords never appear in messages.
 *
 * @example
 * ```ts
 * import { openPostgresLogReader } from '@eskit/postgres-event-store'
 *
 * const reader = await openPostgresLogReader({ connectionString: process.env.DATABASE_URL! })
 * const issued = await reader.readAll({ after: 0, limit: 1000, types: ['PassIssued'] })
 * await reader.close()
 * ```
 */
export async function openPostgresLogReader(options: PostgresLogReaderOptions): Promise<EventStore> {
  if (typeof options !== 'object' || options === null) {
    throw new EskitError('INVALID_ARGUMENT', 'openPostgresLogReader needs { connectionString }')
  }
  const { connectionString, id: expectedId } = options
  if (typeof connectionString !== 'string' || connectionString.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', 'connectionString must be a non-empty string')
  }
  if (expectedId !== undefined && (typeof expectedId !== 'string' || expectedId.length === 0)) {
    throw new EskitError('INVALID_ARGUMENT', 'id must be a non-empty string (the id of the log to read)')
  }
  const schema = options.schema ?? 'eskit'
  assertSchemaName(schema)
  const { timeoutMs } = resolveTuning({ timeoutMs: options.timeoutMs })
  const redact = createRedactor([passwordOf(connectionString)])
  let pool: pg.Pool
  try {
    pool = new pg.Pool({
      connectionString,
      max: 1,
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      keepAlive: true,
      application_name: READER_APPLICATION_NAME,
    })
  } catch (error) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      redact(`connectionString does not parse: ${redact(connectionString)}`),
      {
        details: { reason: redact(error instanceof Error ? error.message : String(error)) },
      },
    )
  }
  // A reader has no logger: an idle connection the server dropped is remade by the next call.
  pool.on('error', () => {})
  const connections = createConnections(pool, timeoutMs, redact)
  let id: string
  try {
    id = await connections.run(`could not open the event log in schema ${schema}`, (client) =>
      readLogId(client, schema),
    )
  } catch (error) {
    await pool.end().catch(() => undefined)
    throw error
  }
  if (expectedId !== undefined && id !== expectedId) {
    await pool.end().catch(() => undefined)
    throw new EskitError('NOT_FOUND', `schema ${schema} holds another event log (${id}), not ${expectedId}`, {
      details: { schema, id, expected: expectedId },
    })
  }
  const reads = createLogReads(connections, schema)
  const life = createLifecycle('the event log reader', { open: true })
  const readOnly = (what: string): EskitError =>
    new EskitError('READ_ONLY', `${what}: this is a log reader; open the log with openPostgresEventStore`, {
      details: { schema },
    })
  return {
    id,
    async append() {
      life.assertOpen()
      throw readOnly('cannot append')
    },
    async readAll(readOptions) {
      life.assertOpen()
      return reads.readAll(readOptions)
    },
    async readPage(readOptions) {
      life.assertOpen()
      return reads.readPage(readOptions)
    },
    async readStream(streamId) {
      life.assertOpen()
      return reads.readStream(streamId)
    },
    async head() {
      life.assertOpen()
      return reads.head()
    },
    onAppend() {
      life.assertOpen()
      throw readOnly('cannot follow appends (no LISTEN)')
    },
    close: () => life.close(() => pool.end().catch(() => undefined)),
  }
}

import {
  type AppendOptions,
  type AppendResult,
  EskitError,
  type EventStore,
  type Logger,
  type LogPage,
  type NewEvent,
  type ReadAllOptions,
  type StoredEvent,
  silentLogger,
  type WorkerSource,
} from '@eskit/core'
import { createAppendListeners, createLifecycle, validateAppend } from '@eskit/core/adapter'
import pg from 'pg'
import { type Connections, createConnections } from './connections.js'
import { createGroupCommit } from './group-commit.js'
import { createLiveFeed } from './live-feed.js'
import { createNotifier } from './notifier.js'
import {
  type PostgresEventStoreOptions,
  type PostgresEventStorePoolOptions,
  type PostgresEventStoreUrlOptions,
  resolvePoolSize,
  resolveTuning,
} from './options.js'
import { createLogReads, LOG_TYPES, readQueries } from './reader.js'
import { createRedactor, passwordOf, type Redactor } from './redact.js'
import { assertSchemaName, channelOf, prepareSchema, quoteIdentifier } from './schema.js'
import { readerWorkerSource } from './worker-source.js'

const APPLICATION_NAME = 'eskit'

/**
 * Opens the shared event log on PostgreSQL, for many application nodes: creates or migrates its
 * tables in their own schema (default `eskit`, under an advisory lock, so nodes may start
 * together), and returns an {@link EventStore} whose positions are dense and in commit order
 * (a reader at position P has seen every event ≤ P, whatever other nodes hold open), whose
 * `expectedVersion` holds across nodes, and whose `onAppend` hears appends of every node
 * (LISTEN/NOTIFY, with a poll as the safety net).
 *
 * Errors are `EskitError`s: `UNAVAILABLE` (server down or not answering within `timeoutMs`:
 * an append that failed so was not acknowledged, though it may have committed), `CONCURRENCY`,
 * `INVALID_EVENT`, `INVALID_ARGUMENT`, `BUSY` (the log's lock was not granted within
 * `lockTimeoutMs`), `CORRUPT` (the schema holds something else or a newer format: nothing is
 * dropped), `CLOSED`. Passwords never appear in messages or log lines.
 *
 * @example
 * ```ts
 * import { openPostgresEventStore } from '@eskit/postgres-event-store'
 *
 * const events = await openPostgresEventStore({ connectionString: process.env.DATABASE_URL! })
 * const { position } = await events.append('pass-1', [{ type: 'PassIssued', data: { holder: 'Ada' } }], {
 *   expectedVersion: 'no-stream',
 * })
 * await events.close()
 * ```
 */
export async function openPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  if (typeof options !== 'object' || options === null) {
    throw new EskitError('INVALID_ARGUMENT', 'openPostgresEventStore needs { connectionString } or { pool }')
  }
  const hasPool = 'pool' in options && options.pool !== undefined
  const hasUrl = 'connectionString' in options && options.connectionString !== undefined
  if (hasPool === hasUrl) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      'openPostgresEventStore takes { connectionString } or { pool }, exactly one',
    )
  }
  const schema = options.schema ?? 'eskit'
  assertSchemaName(schema)
  const tuning = { schema, ...resolveTuning(options) }
  const logger = options.logger ?? silentLogger
  const source = hasPool
    ? usePool(options as PostgresEventStorePoolOptions, tuning.timeoutMs)
    : ownPool(options as PostgresEventStoreUrlOptions, tuning.timeoutMs, logger)
  const connections = createConnections(source.pool, tuning.timeoutMs, source.redact)
  let opened: { id: string; head: number }
  try {
    opened = await connections.run(`could not open the event log in schema ${schema}`, async (client) => {
      const prepared = await prepareSchema(client, schema, {
        lockTimeoutMs: tuning.lockTimeoutMs,
        newId: () => globalThis.crypto.randomUUID(),
      })
      if (prepared.created) logger.info('created event log', { schema })
      if (prepared.migratedFrom !== undefined) {
        logger.info('migrated event log', { schema, from: prepared.migratedFrom })
      }
      const head = await client.query<[number]>({
        text: readQueries(quoteIdentifier(schema)).head,
        rowMode: 'array',
        types: LOG_TYPES,
      })
      return { id: prepared.id, head: head.rows[0]?.[0] ?? 0 }
    })
  } catch (error) {
    if (source.owned) await source.pool.end().catch(() => undefined)
    throw error
  }
  return createStore({ ...source, connections, logger, ...tuning, ...opened })
}

interface Source {
  pool: pg.Pool
  /** True when eskit created the pool (and so ends it on close). */
  owned: boolean
  redact: Redactor
  /** A new client for the LISTEN connection, with the same target and credentials. */
  newClient: () => pg.Client
  /** What a build worker connects with: only a connection string can be handed to a thread. */
  connectionString: string | undefined
}

function ownPool(options: PostgresEventStoreUrlOptions, timeoutMs: number, logger: Logger): Source {
  const { connectionString } = options
  if (typeof connectionString !== 'string' || connectionString.length === 0) {
    throw new EskitError('INVALID_ARGUMENT', 'connectionString must be a non-empty string')
  }
  const redact = createRedactor([passwordOf(connectionString)])
  const max = resolvePoolSize(options.poolSize)
  const config: pg.PoolConfig = {
    connectionString,
    connectionTimeoutMillis: timeoutMs,
    // The server cancels a statement the client has given up on, too.
    statement_timeout: timeoutMs,
    keepAlive: true,
    application_name: APPLICATION_NAME,
  }
  let pool: pg.Pool
  try {
    pool = new pg.Pool({ ...config, max, idleTimeoutMillis: 10_000 })
  } catch (error) {
    // The parser's own message may quote the string: only a redacted one leaves.
    throw new EskitError(
      'INVALID_ARGUMENT',
      redact(`connectionString does not parse: ${redact(connectionString)}`),
      {
        details: { reason: redact(error instanceof Error ? error.message : String(error)) },
      },
    )
  }
  // An idle connection the server dropped must not become an uncaught 'error' event.
  pool.on('error', (error) => logger.warn('idle event log connection lost', { error: redact(error.message) }))
  return { pool, owned: true, redact, newClient: () => new pg.Client(config), connectionString }
}

function usePool(options: PostgresEventStorePoolOptions, timeoutMs: number): Source {
  const { pool } = options
  if (
    typeof pool !== 'object' ||
    pool === null ||
    typeof (pool as { connect?: unknown }).connect !== 'function'
  ) {
    throw new EskitError('INVALID_ARGUMENT', 'pool must be a pg.Pool')
  }
  const settings = ((pool as { options?: pg.PoolConfig }).options ?? {}) as pg.PoolConfig
  const password = typeof settings.password === 'string' ? settings.password : undefined
  const redact = createRedactor([
    password,
    typeof settings.connectionString === 'string' ? passwordOf(settings.connectionString) : undefined,
  ])
  const Client = ((pool as { Client?: typeof pg.Client }).Client ?? pg.Client) as typeof pg.Client
  return {
    pool,
    owned: false,
    redact,
    connectionString: undefined,
    newClient: () =>
      new Client({ ...settings, connectionTimeoutMillis: timeoutMs, keepAlive: true } as pg.ClientConfig),
  }
}

interface StoreContext extends Source {
  connections: Connections
  logger: Logger
  schema: string
  id: string
  head: number
  timeoutMs: number
  lockTimeoutMs: number
  pollIntervalMs: number
  maxGroupEvents: number
}

function createStore(context: StoreContext): EventStore {
  const { connections, logger, redact, id } = context
  const s = quoteIdentifier(context.schema)
  const channel = channelOf(context.schema)
  const listeners = createAppendListeners(logger)
  const life = createLifecycle('the event store', { open: true })
  // The highest head told to listeners: a head heard twice (own append, then its NOTIFY) or an
  // older one (a late poll) is not told again.
  let announced = context.head

  const announce = (head: number): void => {
    if (head <= announced) return
    announced = head
    listeners.notify(head)
  }

  const reads = createLogReads(connections, context.schema)
  const readHead = (): Promise<number> => reads.head()

  const notifier = createNotifier({ connections, channel, logger, redact })
  const groups = createGroupCommit({
    connections,
    schema: s,
    lockTimeoutMs: context.lockTimeoutMs,
    maxGroupEvents: context.maxGroupEvents,
    onCommitted: (head) => {
      announce(head)
      notifier.notify(head)
    },
  })
  const feed = createLiveFeed({
    newClient: context.newClient,
    channel,
    pollIntervalMs: context.pollIntervalMs,
    readHead,
    onHead: announce,
    logger,
    redact,
    reconnect: { initialMs: 100, maxMs: 5000 },
  })

  const assertOpen = (): void => life.assertOpen()
  let workerSource: WorkerSource | null | undefined

  return {
    id,
    workerSource() {
      // The application's pool (its clients, its callbacks) cannot be cloned into a thread: with
      // it every build stays on the main thread, and the collector says so in its log.
      if (context.connectionString === undefined || life.phase === 'closed') return null
      workerSource ??= readerWorkerSource(
        {
          connectionString: context.connectionString,
          schema: context.schema,
          timeoutMs: context.timeoutMs,
          id,
        },
        redact,
      )
      return workerSource
    },
    async append(streamId: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult> {
      assertOpen()
      const { encoded, expected } = validateAppend(streamId, events, options)
      return groups.append(streamId, encoded, expected)
    },
    async readAll(options: ReadAllOptions): Promise<StoredEvent[]> {
      assertOpen()
      return reads.readAll(options)
    },
    async readPage(options: ReadAllOptions): Promise<LogPage> {
      assertOpen()
      return reads.readPage(options)
    },
    async readStream(streamId: string): Promise<StoredEvent[]> {
      assertOpen()
      return reads.readStream(streamId)
    },
    async head(): Promise<number> {
      assertOpen()
      return readHead()
    },
    onAppend(listener: (head: number) => void): () => void {
      assertOpen()
      const off = listeners.add(listener)
      feed.start()
      return off
    },
    close: () =>
      life.close(async () => {
        listeners.clear()
        // Appends already handed in finish (or fail) first; nothing is cut off mid-commit.
        await groups.drain()
        await notifier.drain()
        await feed.close()
        if (context.owned) await context.pool.end().catch(() => undefined)
      }),
  }
}

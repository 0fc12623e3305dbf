import { type Collector, EskitError, type Logger, type ProjectionStatus, silentLogger } from '@eskit/core'
import pg from 'pg'
import { toPostgresError } from './pg-errors.js'
import { createRedactor, passwordOf } from './redact.js'
import { assertSchemaName, quoteIdentifier } from './schema.js'

/**
 * Options of {@link createNodeRegistry}: the log's PostgreSQL (a pool, or a connection string
 * for a small pool of its own) and this node's id.
 *
 * @example
 * ```ts
 * const options: NodeRegistryOptions = { pool, nodeId: `${os.hostname()}:${process.pid}` }
 * ```
 */
export type NodeRegistryOptions = (
  | { pool: pg.Pool; connectionString?: never }
  | { connectionString: string; pool?: never }
) & {
  /** This node's id: 1–128 characters of `A-Z a-z 0-9 . _ : -`, stable across restarts if you want one row per node. */
  nodeId: string
  /** The event log's schema. Default `'eskit'`. */
  schema?: string
  logger?: Logger
}

/**
 * What one node last published: its projections' status and how long ago, measured on the
 * database's clock (so nodes whose clocks differ still compare).
 *
 * @example
 * ```ts
 * const gone = (await registry.list()).filter((node: NodeReport) => node.ageMs > 15_000)
 * ```
 */
export interface NodeReport {
  readonly nodeId: string
  /** When it last published (ISO 8601, the database's clock). */
  readonly seenAt: string
  /** Milliseconds since it last published, on the database's clock. */
  readonly ageMs: number
  readonly projections: readonly ProjectionStatus[]
}

/**
 * The nodes of one event log on PostgreSQL (`{schema}.eskit_nodes`, one small row per node): each
 * node publishes its collector's status, any node lists them all. `createDashboard({ nodes })`
 * shows them side by side.
 *
 * @example
 * ```ts
 * const registry = createNodeRegistry({ pool, nodeId: 'node-a' })
 * const stop = registry.follow(collector)          // publishes every 2 s
 * const nodes = await registry.list()
 * stop()
 * await registry.close()
 * ```
 */
export interface NodeRegistry {
  readonly nodeId: string
  /** Writes this node's status now (one upsert). */
  publish(status: readonly ProjectionStatus[]): Promise<void>
  /** Every node that ever published, by id, with how long ago it last did. */
  list(): Promise<NodeReport[]>
  /**
   * Publishes `collector.status()` now and every `intervalMs` (default 2000) until the returned
   * function is called; a failed publish is logged and tried again at the next turn.
   */
  follow(collector: Pick<Collector, 'status'>, options?: { intervalMs?: number }): () => void
  /** Stops following and ends its own pool (a pool passed in stays open). The row stays: it ages. */
  close(): Promise<void>
}

const NODE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Creates the {@link NodeRegistry} of the log in `schema`; its table is created on first use.
 * Throws `INVALID_ARGUMENT` for a bad node id or schema; database failures are `EskitError`s
 * (`UNAVAILABLE` while the server is unreachable) with passwords redacted.
 *
 * @example
 * ```ts
 * const registry = createNodeRegistry({ connectionString: process.env.DATABASE_URL!, nodeId: 'node-a' })
 * registry.follow(collector)
 * const dashboard = createDashboard({ collector, nodes: registry })
 * ```
 */
export function createNodeRegistry(options: NodeRegistryOptions): NodeRegistry {
  if (typeof options !== 'object' || options === null) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      'createNodeRegistry needs { pool } or { connectionString }, and nodeId',
    )
  }
  const { nodeId } = options
  if (typeof nodeId !== 'string' || !NODE_ID.test(nodeId)) {
    throw new EskitError('INVALID_ARGUMENT', 'nodeId must be 1-128 characters of A-Z a-z 0-9 . _ : -', {
      details: { nodeId: typeof nodeId === 'string' ? nodeId.slice(0, 140) : typeof nodeId },
    })
  }
  const schema = options.schema ?? 'eskit'
  assertSchemaName(schema)
  const logger = options.logger ?? silentLogger
  const ownPool = options.pool === undefined
  // bounded: a dashboard listing the nodes while the database is unreachable gets an error, not a hang
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: 2,
      connectionTimeoutMillis: 5000,
      query_timeout: 5000,
    })
  if (ownPool) pool.on('error', () => {}) // an idle connection dropped by the server: the next query reconnects
  const redact = createRedactor([options.connectionString ? passwordOf(options.connectionString) : undefined])
  const table = `${quoteIdentifier(schema)}.eskit_nodes`
  const followers = new Set<() => void>()
  let ready: Promise<void> | undefined

  const query = async <R extends pg.QueryResultRow>(what: string, text: string, values: unknown[] = []) => {
    try {
      return (await pool.query<R>(text, values)).rows
    } catch (error) {
      throw toPostgresError(error, `could not ${what}`, redact, { nodeId, schema })
    }
  }
  const ensureTable = (): Promise<void> => {
    ready ??= (async () => {
      await query('create the nodes table', `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`)
      await query(
        'create the nodes table',
        `CREATE TABLE IF NOT EXISTS ${table} (
           node_id text PRIMARY KEY,
           status jsonb NOT NULL,
           seen_at timestamptz NOT NULL DEFAULT now()
         )`,
      )
    })().catch((error: unknown) => {
      ready = undefined
      throw error
    })
    return ready
  }

  const registry: NodeRegistry = {
    nodeId,
    async publish(status) {
      await ensureTable()
      await query(
        'publish the node status',
        `INSERT INTO ${table} (node_id, status, seen_at) VALUES ($1, $2, now())
         ON CONFLICT (node_id) DO UPDATE SET status = excluded.status, seen_at = excluded.seen_at`,
        [nodeId, JSON.stringify(status)],
      )
    },
    async list() {
      await ensureTable()
      const rows = await query<{
        node_id: string
        status: ProjectionStatus[]
        seen_at: Date
        age_ms: number
      }>(
        'list the nodes',
        `SELECT node_id, status, seen_at, (extract(epoch FROM now() - seen_at) * 1000)::float8 AS age_ms
         FROM ${table} ORDER BY node_id`,
      )
      return rows.map((row) => ({
        nodeId: row.node_id,
        seenAt: row.seen_at.toISOString(),
        ageMs: Math.max(0, Math.round(row.age_ms)),
        projections: row.status,
      }))
    },
    follow(collector, followOptions = {}) {
      const intervalMs = followOptions.intervalMs ?? 2000
      if (typeof intervalMs !== 'number' || !(intervalMs >= 100)) {
        throw new EskitError('INVALID_ARGUMENT', 'follow: intervalMs must be at least 100')
      }
      let publishing = false
      const turn = (): void => {
        if (publishing) return
        publishing = true
        registry
          .publish(collector.status())
          .catch((error: unknown) => {
            logger.warn('could not publish the node status', {
              nodeId,
              error: error instanceof Error ? error.message : String(error),
            })
          })
          .finally(() => {
            publishing = false
          })
      }
      turn()
      const timer = setInterval(turn, intervalMs)
      // publishing never keeps a process alive on its own
      timer.unref()
      const stop = (): void => {
        clearInterval(timer)
        followers.delete(stop)
      }
      followers.add(stop)
      return stop
    },
    async close() {
      for (const stop of [...followers]) stop()
      if (ownPool) await pool.end()
    },
  }
  return registry
}

import { EskitError, type Logger } from '@eskit/core'
import type pg from 'pg'

/**
 * What {@link openPostgresEventStore} takes besides the connection.
 *
 * @example
 * ```ts
 * const tuning: PostgresEventStoreTuning = { schema: 'billing_log', timeoutMs: 3000, lockTimeoutMs: 2000 }
 * const events = await openPostgresEventStore({ connectionString: process.env.DATABASE_URL!, ...tuning })
 * ```
 */
export interface PostgresEventStoreTuning {
  /** The PostgreSQL schema of the log's tables: 1–48 chars of `a-z 0-9 _`. Default `'eskit'`. */
  schema?: string
  /** Receives the log's lines: created or migrated, LISTEN lost and back, listener errors. */
  logger?: Logger
  /**
   * Every call (append, read, head) answers within this time or rejects with `UNAVAILABLE`, also
   * when the server is down or stopped answering. Default 5000 ms.
   */
  timeoutMs?: number
  /**
   * How long an append waits for the log's row lock (another node's append stuck in a long
   * transaction) before failing with `BUSY`. Default 2000 ms.
   */
  lockTimeoutMs?: number
  /** The safety poll of `onAppend`: the head is read this often. Default 500 ms. */
  pollIntervalMs?: number
  /** A group commit closes at this many events (a single append is never split). Default 2000. */
  maxGroupEvents?: number
}

/**
 * Options of {@link openPostgresEventStore} when eskit opens its own pool from a connection string.
 *
 * @example
 * ```ts
 * const options: PostgresEventStoreUrlOptions = { connectionString: 'postgres://app:secret@db/app', poolSize: 10 }
 * const events = await openPostgresEventStore(options)
 * ```
 */
export interface PostgresEventStoreUrlOptions extends PostgresEventStoreTuning {
  /** `postgres://user:password@host:port/database`; the password never appears in errors or logs. */
  connectionString: string
  /** Connections of the pool eskit opens (and closes on `close()`). Default 10. */
  poolSize?: number
}

/**
 * Options of {@link openPostgresEventStore} on a `pg.Pool` the application owns: eskit borrows
 * connections from it and never ends it; the LISTEN connection is a separate client with the
 * pool's settings, opened and closed by eskit.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
 * const events = await openPostgresEventStore({ pool } satisfies PostgresEventStorePoolOptions)
 * ```
 */
export interface PostgresEventStorePoolOptions extends PostgresEventStoreTuning {
  pool: pg.Pool
}

/**
 * Options of {@link openPostgresEventStore}: a connection string, or the application's own pool.
 *
 * @example
 * ```ts
 * const options: PostgresEventStoreOptions = pool ? { pool } : { connectionString: url, schema: 'eskit' }
 * ```
 */
export type PostgresEventStoreOptions = PostgresEventStoreUrlOptions | PostgresEventStorePoolOptions

/** The options with defaults applied and checked. */
export interface ResolvedTuning {
  schema: string
  timeoutMs: number
  lockTimeoutMs: number
  pollIntervalMs: number
  maxGroupEvents: number
}

/** Applies the defaults; a bad value is `INVALID_ARGUMENT` naming the option. */
export function resolveTuning(options: PostgresEventStoreTuning): Omit<ResolvedTuning, 'schema'> {
  return {
    timeoutMs: positive(options.timeoutMs, 'timeoutMs', 5000),
    lockTimeoutMs: positive(options.lockTimeoutMs, 'lockTimeoutMs', 2000),
    pollIntervalMs: positive(options.pollIntervalMs, 'pollIntervalMs', 500),
    maxGroupEvents: positive(options.maxGroupEvents, 'maxGroupEvents', 2000),
  }
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  // Timers hold at most 2^31 - 1 ms; beyond that they fire at once.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 2_147_483_647) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `${name} must be an integer from 1 to 2147483647, not ${String(value)}`,
      {
        details: { [name]: value },
      },
    )
  }
  return value
}

/** `poolSize`, default 10. */
export function resolvePoolSize(value: unknown): number {
  return positive(value, 'poolSize', 10)
}

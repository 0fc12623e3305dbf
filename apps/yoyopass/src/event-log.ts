import type { EventStore, Logger } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { dataPaths, type EventLogConfig } from './config.ts'

/**
 * Opens the configured event log: the embedded SQLite log `DATA/events.db`, or the PostgreSQL
 * log many nodes share. The PostgreSQL package is loaded only when it is used.
 *
 * @example
 * ```ts
 * const events = await openEventLog({ kind: 'postgres', connectionString: process.env.DATABASE_URL ?? '' }, 'data', logger)
 * ```
 */
export async function openEventLog(
  events: EventLogConfig,
  dataDir: string,
  logger: Logger,
): Promise<EventStore> {
  if (events.kind === 'sqlite') return openSqliteEventStore({ path: dataPaths(dataDir).events, logger })
  const { openPostgresEventStore } = await import('@eskit/postgres-event-store')
  return openPostgresEventStore({ connectionString: events.connectionString, logger })
}

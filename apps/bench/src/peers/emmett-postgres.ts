import { createRequire } from 'node:module'
import path from 'node:path'
import pg from 'pg'
import { rowsDigest, type ViewDigest } from '../checksum.ts'
import { type PassEvent, type PassRow, workloadGroups } from '../workload.ts'
import { installPeer, peersDir, peerVersion } from './peer-install.ts'

/**
 * The PostgreSQL peer: Emmett's PostgreSQL event store with a raw-SQL projection run by its
 * consumer, on the same server as eskit's log. Installed on demand (`--peers`) into
 * `apps/bench/.peers/` beside the SQLite peer: 0.42 as the SQLite peer, with the exact
 * pongo/dumbo versions emmett-postgresql 0.42.0 peers on.
 */
export const EMMETT_PG_PACKAGES = [
  '@event-driven-io/emmett-postgresql@0.42.0',
  '@event-driven-io/emmett@0.42.0',
  '@event-driven-io/pongo@0.16.11',
  '@event-driven-io/dumbo@0.12.7',
  'pg@^8.12.0',
  'uuid@^10.0.0',
  'async-retry@^1.3.3',
  'commander@^12.1.0',
]

/** Installs emmett-postgresql into `{benchRoot}/.peers` unless it is there already. */
export function installEmmettPostgres(benchRoot: string, log: (line: string) => void): void {
  installPeer(
    benchRoot,
    {
      marker: '@event-driven-io/emmett-postgresql',
      packages: EMMETT_PG_PACKAGES,
      timeoutMs: 300_000,
      hint: 'Install it with',
    },
    log,
  )
}

/** The installed emmett-postgresql version. */
export function emmettPostgresVersion(benchRoot: string): string | undefined {
  return peerVersion(benchRoot, '@event-driven-io/emmett-postgresql')
}

interface EmmettPgModule {
  getPostgreSQLEventStore(connectionString: string): {
    appendToStream(streamName: string, events: PassEvent[]): Promise<unknown>
    consumer(options: { pulling?: { batchSize?: number; pullingFrequencyInMs?: number } }): {
      projector(options: {
        processorId: string
        projection: unknown
        startFrom: 'BEGINNING'
        stopAfter: (message: { metadata: { globalPosition: bigint } }) => boolean
      }): unknown
      start(): Promise<void>
      close(): Promise<void>
    }
    close(): Promise<void>
  }
  postgreSQLRawSQLProjection(options: {
    name: string
    canHandle: string[]
    evolve: (event: { type: string; data: any }) => unknown
  }): unknown
}

function load(benchRoot: string): { emmett: EmmettPgModule; rawSql: (sql: string) => unknown } {
  const require = createRequire(path.join(peersDir(benchRoot), 'package.json'))
  const emmett = require('@event-driven-io/emmett-postgresql') as EmmettPgModule
  const { rawSql } = require('@event-driven-io/dumbo') as { rawSql: (sql: string) => unknown }
  return { emmett, rawSql }
}

/** Emmett's raw-SQL projections take SQL text; the workload's values are plain ASCII. */
function literal(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value.replaceAll("'", "''")}'`
}

/** Writes the first `events` events of the workload into Emmett's store in database `url`. */
export async function writeEmmettPostgresLog(
  benchRoot: string,
  url: string,
  events: number,
  streams: number,
): Promise<void> {
  const { emmett } = load(benchRoot)
  const store = emmett.getPostgreSQLEventStore(url)
  try {
    for (const group of workloadGroups(0, events, streams))
      await store.appendToStream(group.streamId, group.events)
  } finally {
    await store.close()
  }
}

/** A consumer setting of Emmett's. */
export interface EmmettPgSetting {
  label: string
  batchSize?: number
  pullingFrequencyInMs?: number
}

/**
 * Rebuilds the view (a `passes` table in the same database, last_at bigint: PostgreSQL's
 * integer is 32-bit) from the start of Emmett's log with a fresh projector; returns the
 * milliseconds and the digest of the rows. Emmett's consumer stops without an error when a
 * projection's SQL fails (it did on an integer overflow while this was written), so the digest
 * check is what tells a finished rebuild from a stopped one.
 */
export async function emmettPostgresRebuild(
  benchRoot: string,
  url: string,
  head: number,
  setting: EmmettPgSetting,
  run: number,
): Promise<{ ms: number; digest: ViewDigest }> {
  const { emmett, rawSql } = load(benchRoot)
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query('drop table if exists passes')
    await admin.query(
      'create table passes (id text primary key, holder text not null, scans integer not null default 0, last_at bigint)',
    )
    const store = emmett.getPostgreSQLEventStore(url)
    const pulling: { batchSize?: number; pullingFrequencyInMs?: number } = {}
    if (setting.batchSize !== undefined) pulling.batchSize = setting.batchSize
    if (setting.pullingFrequencyInMs !== undefined)
      pulling.pullingFrequencyInMs = setting.pullingFrequencyInMs
    const consumer = store.consumer({ pulling })
    const last = BigInt(head)
    consumer.projector({
      processorId: `bench-passes-${process.pid}-${run}-${setting.label}`,
      projection: emmett.postgreSQLRawSQLProjection({
        name: `passes-${run}`,
        canHandle: ['PassIssued', 'PassScanned'],
        evolve: (event) =>
          rawSql(
            event.type === 'PassIssued'
              ? `insert into passes (id, holder, scans, last_at) values (${literal(event.data.passId)}, ${literal(event.data.holder)}, 0, null) on conflict (id) do update set holder = excluded.holder`
              : `update passes set scans = scans + 1, last_at = ${literal(event.data.at)} where id = ${literal(event.data.passId)}`,
          ),
      }),
      startFrom: 'BEGINNING',
      stopAfter: (message) => message.metadata.globalPosition >= last,
    })
    const started = performance.now()
    await consumer.start()
    const ms = performance.now() - started
    await consumer.close()
    await store.close()
    const rows = (await admin.query<PassRow>('select id, holder, scans, last_at from passes')).rows
    return { ms, digest: rowsDigest(rows) }
  } finally {
    await admin.end()
  }
}

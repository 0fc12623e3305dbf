import { createRequire } from 'node:module'
import path from 'node:path'
import { rowsDigest, type ViewDigest } from '../checksum.ts'
import { passesDdl } from '../raw.ts'
import { type PassEvent, type PassRow, workloadGroups } from '../workload.ts'
import { installPeer, peersDir, peerVersion } from './peer-install.ts'

/**
 * The peer: Emmett's SQLite event store with a SQLite projection run by its consumer, the closest
 * TypeScript peer. Emmett needs the `sqlite3` package, which compiles from source here, so it is
 * not a workspace dependency: `--peers` installs it on demand into `apps/bench/.peers/`.
 */

/**
 * What is installed into `.peers/`: 0.42.x as DESIGN.md names it, with emmett's own peer
 * dependencies listed because `--legacy-peer-deps` does not install them.
 */
export const EMMETT_PACKAGES = [
  '@event-driven-io/emmett-sqlite@0.42',
  '@event-driven-io/emmett@0.42',
  'sqlite3@^5.1.7',
  'uuid@^10.0.0',
  'async-retry@^1.3.3',
  'commander@^12.1.0',
]

/** Installs Emmett into `{benchRoot}/.peers` unless it is there already. */
export function installEmmett(benchRoot: string, log: (line: string) => void): void {
  installPeer(
    benchRoot,
    {
      marker: '@event-driven-io/emmett-sqlite',
      packages: EMMETT_PACKAGES,
      // sqlite3 compiles from source
      timeoutMs: 600_000,
      note: 'sqlite3 may compile from source, about a minute',
      hint: 'Under `pnpm bench`, turbo passes the task only some environment variables; if npm needs others here (NODE_EXTRA_CA_CERTS, a proxy), run `node src/main.ts --peers` in apps/bench once, or install with',
    },
    log,
  )
}

interface EmmettConnection {
  command(sql: string, values?: unknown[]): Promise<unknown>
  query<T>(sql: string, values?: unknown[]): Promise<T[]>
  close(): void
}
interface EmmettReadEvent {
  type: string
  data: any
  metadata: { globalPosition: bigint }
}
interface EmmettModule {
  getSQLiteEventStore(options: { fileName: string }): {
    appendToStream(streamName: string, events: PassEvent[]): Promise<unknown>
    consumer(options: { pulling?: { batchSize?: number; pullingFrequencyInMs?: number } }): {
      processor(options: {
        processorId: string
        projection: unknown
        startFrom: 'BEGINNING'
        stopAfter: (message: EmmettReadEvent) => boolean
      }): unknown
      start(): Promise<void>
      close(): Promise<void>
    }
  }
  sqliteConnection(options: { fileName: string }): EmmettConnection
  sqliteRawSQLProjection(options: {
    canHandle: string[]
    evolve: (event: EmmettReadEvent) => string
  }): unknown
}

/** The installed Emmett version, or undefined when it is not installed. */
export function emmettVersion(benchRoot: string): string | undefined {
  return peerVersion(benchRoot, '@event-driven-io/emmett-sqlite')
}

function loadEmmett(benchRoot: string): EmmettModule {
  const require = createRequire(path.join(peersDir(benchRoot), 'package.json'))
  return require('@event-driven-io/emmett-sqlite') as EmmettModule
}

/** Emmett's raw-SQL projections take SQL text, not parameters; the workload's values are plain ASCII. */
function literal(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value.replaceAll("'", "''")}'`
}

/** The reference view as an Emmett raw-SQL projection (one statement per event, as documented). */
function passProjection(emmett: EmmettModule): unknown {
  return emmett.sqliteRawSQLProjection({
    canHandle: ['PassIssued', 'PassScanned'],
    evolve: (event) =>
      event.type === 'PassIssued'
        ? `insert into passes (id, holder, scans, last_at) values (${literal(event.data.passId)}, ${literal(event.data.holder)}, 0, null) on conflict (id) do update set holder = excluded.holder`
        : `update passes set scans = scans + 1, last_at = ${literal(event.data.at)} where id = ${literal(event.data.passId)}`,
  })
}

/**
 * A log in Emmett's own store with the first `events` events of the workload. Under heavy load
 * Emmett's append has failed here with SQLITE_BUSY "cannot commit transaction - SQL statements in
 * progress" (inside its sqlite3 connection handling); the failed append is rolled back when its
 * connection closes, so it is retried a few times. The view's digest check would catch a double.
 */
export async function writeEmmettLog(
  benchRoot: string,
  file: string,
  events: number,
  streams: number,
): Promise<{ retries: number }> {
  const emmett = loadEmmett(benchRoot)
  const store = emmett.getSQLiteEventStore({ fileName: file })
  let retries = 0
  for (const group of workloadGroups(0, events, streams)) {
    for (let attempt = 1; ; attempt++) {
      try {
        await store.appendToStream(group.streamId, group.events)
        break
      } catch (error) {
        if (attempt >= 5 || !/SQLITE_BUSY/.test(String((error as Error).message))) throw error
        retries++
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt))
      }
    }
  }
  // Emmett closes its connections without waiting; checkpoint the WAL into the file and give the
  // closes time to finish, so the file can be copied and renamed on its own.
  const admin = emmett.sqliteConnection({ fileName: file })
  await admin.command('PRAGMA wal_checkpoint(TRUNCATE)')
  admin.close()
  await new Promise((resolve) => setTimeout(resolve, 250))
  return { retries }
}

/** A rebuild that has not reached the head by then has failed (rather than hanging the run). */
const REBUILD_TIMEOUT_MS = 180_000

/** A setting of Emmett's consumer. */
export interface EmmettSetting {
  label: string
  batchSize?: number
  pullingFrequencyInMs?: number
}

/**
 * Rebuilds the view from the start of an Emmett log with a fresh projection processor and returns
 * the milliseconds until it stopped at the head, and the digest of the rows it wrote.
 */
export async function emmettRebuild(
  benchRoot: string,
  file: string,
  head: number,
  setting: EmmettSetting,
  run: number,
): Promise<{ ms: number; digest: ViewDigest }> {
  const emmett = loadEmmett(benchRoot)
  // The previous run's connections close asynchronously and may still hold the table for a moment.
  for (let attempt = 1; ; attempt++) {
    const admin = emmett.sqliteConnection({ fileName: file })
    try {
      await admin.command('drop table if exists passes')
      await admin.command(passesDdl())
      break
    } catch (error) {
      if (attempt >= 20 || !/SQLITE_(LOCKED|BUSY)/.test(String((error as Error).message))) throw error
      await new Promise((resolve) => setTimeout(resolve, 50))
    } finally {
      admin.close()
    }
  }
  const store = emmett.getSQLiteEventStore({ fileName: file })
  const pulling: { batchSize?: number; pullingFrequencyInMs?: number } = {}
  if (setting.batchSize !== undefined) pulling.batchSize = setting.batchSize
  if (setting.pullingFrequencyInMs !== undefined) pulling.pullingFrequencyInMs = setting.pullingFrequencyInMs
  const consumer = store.consumer({ pulling })
  const last = BigInt(head)
  consumer.processor({
    // A new processor id per run: Emmett keeps a checkpoint per processor.
    processorId: `bench-passes-${process.pid}-${run}-${setting.label}`,
    projection: passProjection(emmett),
    startFrom: 'BEGINNING',
    stopAfter: (message) => message.metadata.globalPosition >= last,
  })
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      consumer.start(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`Emmett did not reach position ${head} within ${REBUILD_TIMEOUT_MS / 1000} s`)),
          REBUILD_TIMEOUT_MS,
        )
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
  const ms = performance.now() - started
  await consumer.close()
  const reader = emmett.sqliteConnection({ fileName: file })
  try {
    const rows = await reader.query<PassRow>('select id, holder, scans, last_at from passes')
    return { ms, digest: rowsDigest(rows) }
  } finally {
    reader.close()
  }
}

import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { EventStore } from '@eskit/core'
import { openPostgresEventStore } from '@eskit/postgres-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import pg from 'pg'
import { assertDigest, viewDigest } from '../checksum.ts'
import { openCollector } from '../collector-run.ts'
import type { BenchContext } from '../context.ts'
import { collectorRebuildSample, freshDir, rateRow } from '../measure.ts'
import {
  type EmmettPgSetting,
  emmettPostgresRebuild,
  emmettPostgresVersion,
  installEmmettPostgres,
  writeEmmettPostgresLog,
} from '../peers/emmett-postgres.ts'
import { type BenchPostgres, benchPostgres } from '../pg-server.ts'
import { percentile, summarize } from '../stats.ts'
import { recommendedView } from '../views.ts'
import { workloadEvent } from '../workload.ts'
import { parallelBuildsFromPostgres } from './postgres-parallel.ts'

const CASE = '9 postgres'
const CHILD = fileURLToPath(new URL('../pg-live-child.ts', import.meta.url))
const CLIENTS = [1, 4, 16] as const

let schemas = 0
const nextSchema = (): string => `bench_${process.pid}_${++schemas}`

/** The unsafe design: a bigserial table, one autocommit insert per event, `clients` connections. */
async function rawAppends(url: string, count: number, clients: number, batch: number): Promise<number> {
  const setup = new pg.Client({ connectionString: url })
  await setup.connect()
  const table = `raw_${++schemas}`
  await setup.query(`CREATE TABLE ${table} (position bigserial PRIMARY KEY, stream_id text NOT NULL,
    stream_version bigint NOT NULL, type text NOT NULL, data json NOT NULL, metadata json,
    recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (stream_id, stream_version))`)
  const connections = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      return client
    }),
  )
  const text =
    batch === 1
      ? `INSERT INTO ${table} (stream_id, stream_version, type, data) VALUES ($1, 1, $2, $3)`
      : `INSERT INTO ${table} (stream_id, stream_version, type, data)
         SELECT $1, v, t, d::json FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS x(t, d, v)`
  let next = 0
  try {
    const started = performance.now()
    await Promise.all(
      connections.map(async (client) => {
        for (;;) {
          const first = next
          if (first >= count) return
          next += batch
          const events = Array.from(
            { length: Math.min(batch, count - first) },
            (_, k) => workloadEvent(first + k).event,
          )
          const values: unknown[] =
            batch === 1
              ? [`bench-${first}`, events[0]?.type, JSON.stringify(events[0]?.data)]
              : [`bench-${first}`, events.map((e) => e.type), events.map((e) => JSON.stringify(e.data))]
          await client.query({ name: `raw-${table}`, text, values })
        }
      }),
    )
    const ms = performance.now() - started
    const { rows } = await setup.query(`SELECT count(*)::int AS n FROM ${table}`)
    if (rows[0]?.n !== count) throw new Error(`raw appends: ${rows[0]?.n} rows, expected ${count}`)
    return ms
  } finally {
    for (const client of connections) await client.end()
    await setup.query(`DROP TABLE ${table}`)
    await setup.end()
  }
}

/** eskit: `clients` concurrent append loops on one store (one process: group commit). */
async function eskitAppends(url: string, count: number, clients: number, batch: number): Promise<number> {
  const schema = nextSchema()
  const store = await openPostgresEventStore({
    connectionString: url,
    schema,
    poolSize: Math.max(4, clients),
  })
  let next = 0
  try {
    const started = performance.now()
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (;;) {
          const first = next
          if (first >= count) return
          next += batch
          const events = Array.from(
            { length: Math.min(batch, count - first) },
            (_, k) => workloadEvent(first + k).event,
          )
          await store.append(`bench-${first}`, events, { expectedVersion: 'no-stream' })
        }
      }),
    )
    const ms = performance.now() - started
    await assertDense(url, schema, count)
    return ms
  } finally {
    await store.close()
    await dropSchema(url, schema)
  }
}

/** Positions 1..count, each once: the count, the smallest and the largest agree with the head. */
async function assertDense(url: string, schema: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n, min(position)::int AS lo, max(position)::int AS hi,
        (SELECT position::int FROM ${schema}.eskit_head) AS head FROM ${schema}.eskit_events`,
    )
    const row = rows[0] as { n: number; lo: number; hi: number; head: number }
    if (row.n !== count || row.lo !== 1 || row.hi !== count || row.head !== count) {
      throw new Error(`eskit appends: ${JSON.stringify(row)}, expected ${count} dense positions`)
    }
  } finally {
    await client.end()
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => client.end())
}

/** Writes the reference workload to a PostgreSQL log, in workload order (group commit keeps it). */
/**
 * Refreshes the planner's statistics of a log loaded in bulk a moment ago, as autovacuum does on a
 * live server within a minute or so. Without them PostgreSQL guesses a few hundred rows for the
 * events table and reads a type-filtered page with a bitmap scan of the whole rest of the log
 * (measured: 200k events read by type in 12.5 s instead of 0.55 s).
 */
async function analyze(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`ANALYZE "${schema}".eskit_events`)
  } finally {
    await client.end()
  }
}

async function loadWorkload(store: EventStore, events: number, streams: number): Promise<void> {
  for (let first = 0; first < events; first += 2000) {
    const chunk = Array.from({ length: Math.min(2000, events - first) }, (_, k) =>
      workloadEvent(first + k, streams),
    )
    await Promise.all(chunk.map(({ streamId, event }) => store.append(streamId, [event])))
  }
  if ((await store.head()) !== events) throw new Error(`load: head ${await store.head()}, expected ${events}`)
}

/**
 * Case 9: the PostgreSQL event log. Single-event appends from 1, 4 and 16 concurrent clients
 * against a raw bigserial insert loop on the same server (the unsafe design: its positions commit
 * out of order), 100-event appends, the reference rebuild reading the log from PostgreSQL against
 * the same rebuild reading the SQLite log, and append in one process → visible through `waitFor`
 * in another.
 */
export async function postgresCase(ctx: BenchContext): Promise<void> {
  const { repeats, pgAppends, pgBatchedAppends, pgLiveAppends, events, streams, appendBatch } = ctx.config
  ctx.log(`case ${CASE}: starting PostgreSQL`)
  const server = await benchPostgres()
  try {
    const url = await server.database()
    // Raw and eskit in interleaved rounds (at least 3, also in quick mode): a burst of load from
    // other work on this shared machine then hits both alike.
    const rounds = Math.max(3, repeats)
    const interleaved = async (raw: () => Promise<number>, eskit: () => Promise<number>) => {
      const rawMs: number[] = []
      const eskitMs: number[] = []
      for (let round = 0; round < rounds; round++) {
        rawMs.push(await raw())
        eskitMs.push(await eskit())
      }
      return { raw: summarize(rawMs), eskit: summarize(eskitMs) }
    }
    for (const clients of CLIENTS) {
      ctx.log(`case ${CASE}: ${pgAppends} single-event appends, ${clients} clients, ${rounds} rounds`)
      const { raw, eskit } = await interleaved(
        () => rawAppends(url, pgAppends, clients, 1),
        () => eskitAppends(url, pgAppends, clients, 1),
      )
      const who = clients === 1 ? '1 client' : `${clients} concurrent clients`
      ctx.add(rateRow(CASE, `raw pg bigserial insert, one event, ${who}`, raw, pgAppends))
      const row = rateRow(
        CASE,
        `append(), one event, ${who}`,
        eskit,
        pgAppends,
        { medianMs: raw.median, of: 'raw bigserial' },
        clients === 16 ? { text: '≥ 0.5× raw', min: 0.5 } : undefined,
      )
      row.note = `dense positions checked; ${server.describe}`
      ctx.add(row)
    }
    ctx.log(`case ${CASE}: ${pgBatchedAppends} events in appends of ${appendBatch}`)
    const batched = await interleaved(
      () => rawAppends(url, pgBatchedAppends, 1, appendBatch),
      () => eskitAppends(url, pgBatchedAppends, 1, appendBatch),
    )
    ctx.add(
      rateRow(
        CASE,
        `raw pg bigserial insert, ${appendBatch} events per statement`,
        batched.raw,
        pgBatchedAppends,
      ),
    )
    ctx.add(
      rateRow(CASE, `append(), ${appendBatch} events per append, 1 client`, batched.eskit, pgBatchedAppends, {
        medianMs: batched.raw.median,
        of: 'raw bigserial',
      }),
    )

    // The reference rebuild, log in PostgreSQL against log in SQLite, same run, same view and store.
    ctx.log(`case ${CASE}: loading ${events} events into PostgreSQL (not timed)`)
    const schema = nextSchema()
    const pgLog = await openPostgresEventStore({ connectionString: url, schema })
    try {
      await loadWorkload(pgLog, events, streams)
      await analyze(url, schema)
      const sqliteLog = await ctx.logs.eskit(events)
      const expected = ctx.expected(events)
      const sample = (log: string | EventStore, label: string) => (round: number) =>
        collectorRebuildSample(ctx, {
          label: `pg-rebuild-${label}-${round}`,
          logFile: log as string,
          open: typeof log === 'string' ? undefined : log,
          head: events,
          expected,
          store: (dir) => sqliteStore({ dir }),
          projections: () => [recommendedView('passes')],
          check: [{ name: 'passes' }],
        })
      const fromSqlite: number[] = []
      const fromPg: number[] = []
      for (let round = 0; round < rounds; round++) {
        fromSqlite.push(await sample(sqliteLog, 'sqlite')(round))
        fromPg.push(await sample(pgLog, 'pg')(round))
      }
      const sqliteSummary = summarize(fromSqlite)
      ctx.add(
        rateRow(
          CASE,
          'rebuild, log in SQLite (sqliteStore + defineView, recommended)',
          sqliteSummary,
          events,
        ),
      )
      const pgRow = rateRow(
        CASE,
        'rebuild, log in PostgreSQL (same view and store)',
        summarize(fromPg),
        events,
        { medianMs: sqliteSummary.median, of: 'SQLite log' },
        { text: '≥ 0.5× SQLite log', min: 0.5 },
      )
      pgRow.note = `${events} events; view digest checked`
      ctx.add(pgRow)
      await parallelBuildsFromPostgres(ctx, CASE, pgLog)
      await liveAcrossProcesses(ctx, url, schema, pgLog, pgLiveAppends)
    } finally {
      await pgLog.close()
    }
    await emmettPeer(ctx, server)
  } finally {
    await server.close()
  }
}

const EMMETT_VARIANT = 'Emmett (emmett-postgresql)'

/**
 * The peer on the same server: Emmett's PostgreSQL store and a raw-SQL projection (its view in
 * PostgreSQL) rebuilding the peer slice of the workload, against eskit rebuilding the same slice
 * from its PostgreSQL log into a projection file. Each result's digest is checked.
 */
async function emmettPeer(ctx: BenchContext, server: BenchPostgres): Promise<void> {
  if (!ctx.peers) {
    ctx.add({ case: CASE, variant: EMMETT_VARIANT, skipped: 'run with --peers to install and measure it' })
    return
  }
  try {
    installEmmettPostgres(ctx.benchRoot, ctx.log)
  } catch (error) {
    ctx.add({ case: CASE, variant: EMMETT_VARIANT, skipped: `not installed: ${(error as Error).message}` })
    return
  }
  const version = emmettPostgresVersion(ctx.benchRoot) ?? '?'
  const { peerEvents: events, peerStreams: streams, slowRepeats, repeats } = ctx.config
  const expected = ctx.expected(events, streams)
  const shape = `${events / 1000}k events / ${streams} streams`
  ctx.log(`case ${CASE}: peer slice ${shape}, eskit (log in PostgreSQL)`)
  const eskitLog = await openPostgresEventStore({
    connectionString: await server.database(),
    schema: nextSchema(),
  })
  let eskit: ReturnType<typeof summarize>
  try {
    await loadWorkload(eskitLog, events, streams)
    const samples: number[] = []
    for (let round = 0; round < Math.max(3, repeats); round++) {
      samples.push(
        await collectorRebuildSample(ctx, {
          label: `pg-peer-eskit-${round}`,
          logFile: '',
          open: eskitLog,
          head: events,
          expected,
          store: (dir) => sqliteStore({ dir }),
          projections: () => [recommendedView('passes')],
          check: [{ name: 'passes' }],
        }),
      )
    }
    eskit = summarize(samples)
  } finally {
    await eskitLog.close()
  }
  ctx.add(rateRow(CASE, `eskit, log in PostgreSQL, sqliteStore recommended, ${shape}`, eskit, events))
  ctx.log(`case ${CASE}: the Emmett log (not timed)`)
  const emmettUrl = await server.database()
  try {
    await writeEmmettPostgresLog(ctx.benchRoot, emmettUrl, events, streams)
  } catch (error) {
    ctx.add({
      case: CASE,
      variant: `Emmett ${version}`,
      skipped: `Emmett failed writing its log: ${(error as Error).message}`,
    })
    return
  }
  const settings: Array<EmmettPgSetting & { note: string }> = [
    { label: 'defaults', note: 'consumer defaults' },
    { label: 'best', batchSize: 1000, pullingFrequencyInMs: 0, note: 'batches of 1000, no pull delay' },
  ]
  let run = 0
  for (const setting of settings) {
    ctx.log(`case ${CASE}: Emmett PostgreSQL ${setting.label}`)
    const variant = `Emmett ${version} postgreSQLRawSQLProjection, ${setting.label}, ${shape}`
    try {
      const samples: number[] = []
      for (let i = 0; i < slowRepeats; i++) {
        const result = await emmettPostgresRebuild(ctx.benchRoot, emmettUrl, events, setting, run++)
        assertDigest(`Emmett PostgreSQL ${setting.label}`, result.digest, expected)
        samples.push(result.ms)
      }
      const row = rateRow(CASE, variant, summarize(samples), events, {
        medianMs: eskit.median,
        of: 'eskit (PostgreSQL log)',
      })
      row.note = `${setting.note}; view in PostgreSQL, same server`
      ctx.add(row)
    } catch (error) {
      ctx.add({ case: CASE, variant, skipped: `Emmett failed: ${(error as Error).message}` })
    }
  }
}

/**
 * A child process appends one event at a time; this process's collector (its own store on the
 * same log, woken by NOTIFY) must see it: timed from the request until `waitFor` resolves.
 */
async function liveAcrossProcesses(
  ctx: BenchContext,
  url: string,
  schema: string,
  log: EventStore,
  appends: number,
): Promise<void> {
  const { events, streams } = ctx.config
  ctx.log(`case ${CASE}: ${appends} appends in another process → waitFor here`)
  const dir = freshDir(ctx, 'pg-live')
  const run = openCollector(log, sqliteStore({ dir }), [recommendedView('passes')])
  const child: ChildProcess = fork(CHILD, [url, schema, String(streams)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const replies: Array<(message: { position?: number; error?: string; ready?: boolean }) => void> = []
  child.on('message', (message: { position?: number; error?: string; ready?: boolean }) =>
    replies.shift()?.(message),
  )
  const reply = () =>
    new Promise<{ position?: number; error?: string; ready?: boolean }>((resolve) => replies.push(resolve))
  const latencies: number[] = []
  try {
    await reply()
    await run.collector.start()
    await run.caughtUp(events)
    for (let i = events; i < events + appends; i++) {
      const started = performance.now()
      const answer = reply()
      child.send({ n: i })
      const { position, error } = await answer
      if (position === undefined) throw new Error(`the appending process failed: ${error}`)
      await run.collector.waitFor(position, { timeoutMs: 10_000 })
      latencies.push(performance.now() - started)
    }
    assertDigest(
      'pg live',
      viewDigest(run.collector.reader<Database.Database>('passes')),
      ctx.expected(events + appends),
    )
  } finally {
    child.send({ stop: true })
    await new Promise((resolve) => child.once('exit', resolve))
    await run.close()
  }
  const summary = summarize(latencies)
  ctx.add({
    case: CASE,
    variant: 'append in another process → waitFor here: median',
    min: summary.min,
    median: summary.median,
    unit: 'ms',
    target: '< 10 ms',
    met: summary.median < 10,
    note: `${appends} appends, one at a time; p99 ${percentile(latencies, 99).toFixed(1)} ms`,
  })
}

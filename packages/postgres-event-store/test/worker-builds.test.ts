import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import util from 'node:util'
import { Worker } from 'node:worker_threads'
import {
  type Collector,
  createCollector,
  type EventStore,
  type NewEvent,
  type ProgressInfo,
  type Projection,
  type WorkerSource,
} from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import {
  dumpProjectionFile,
  eventually,
  type RecordingLogger,
  recordingLogger,
  tempDir,
} from '@eskit/test-kit'
import { useTestDatabase } from '@eskit/test-postgres'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { READER_APPLICATION_NAME } from '../src/log-reader.js'
import { openPostgresEventStore } from '../src/open-postgres-event-store.js'
import { freshSchema } from '../src/test-helpers.js'
import { pgAll, pgPasses, pgTotals } from './fixtures/views.js'
import { assertBuilt } from './processes.js'

// The worker imports the built package (dist), as an installed application's would.
beforeAll(assertBuilt)
const databaseUrl = useTestDatabase('workers')
const views = [pgPasses, pgTotals, pgAll] as unknown as Projection[]
const names = views.map((view) => view.name)
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The password of the test server's URL: what must never be printed. */
const secret = (): string => {
  const password = decodeURIComponent(new URL(databaseUrl()).password)
  expect(password, 'the test server URL carries a password').not.toBe('')
  return password
}

async function openLog(options: { connectionString?: string; schema?: string } = {}): Promise<EventStore> {
  const events = await openPostgresEventStore({
    connectionString: options.connectionString ?? databaseUrl(),
    schema: options.schema ?? freshSchema(),
  })
  cleanups.push(() => events.close())
  return events
}

/** `passes` passes, each issued and scanned three times; returns the head. */
async function seed(events: EventStore, passes: number): Promise<number> {
  let head = 0
  for (let start = 0; start < passes; start += 100) {
    const appends = []
    for (let i = start; i < Math.min(passes, start + 100); i++) {
      const id = `pass-${i}`
      const batch: NewEvent[] = [{ type: 'PassIssued', data: { passId: id, holder: `holder ${i % 31}` } }]
      for (let scan = 0; scan < 3; scan++)
        batch.push({ type: 'PassScanned', data: { passId: id, at: `2026-01-0${scan + 1}T00:00:00Z` } })
      appends.push(events.append(id, batch))
    }
    for (const result of await Promise.all(appends)) head = Math.max(head, result.position)
  }
  return head
}

function collect(events: EventStore, dir: string, buildWorkers: number, logger = recordingLogger()) {
  const collector = createCollector({
    events,
    store: sqliteStore({ dir }),
    logger,
    batchSize: 40,
    buildWorkers,
  })
  for (const view of views) collector.add(view)
  cleanups.push(() => collector.stop())
  return { collector, logger }
}

/** Resolves once every projection named was rebuilt (the 'rebuilt' event, after the swap). */
function rebuilt(collector: Collector, wanted: readonly string[]): Promise<void> {
  const left = new Set(wanted)
  return new Promise((resolve) => {
    const off = collector.on('rebuilt', (info: { name: string }) => {
      left.delete(info.name)
      if (left.size === 0) {
        off()
        resolve()
      }
    })
  })
}

const lent = (logger: RecordingLogger, name: string): number =>
  logger.find('debug', 'projection build lent to a worker').filter((line) => line.fields?.name === name)
    .length

/** A connection of the test's own, to look at pg_stat_activity. */
async function observer(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl() })
  client.on('error', () => {})
  await client.connect()
  cleanups.push(() => client.end())
  return client
}

/** The reader connections (of build workers) open on the test database now. */
async function readerConnections(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()`,
    [READER_APPLICATION_NAME],
  )
  return result.rows[0]?.n ?? 0
}

// worker threads start in tens of milliseconds, more on a machine loaded by other test files
describe('builds in worker threads over the PostgreSQL log', { timeout: 30_000 }, () => {
  it("the store's worker source opens a reader in a thread that reads what the store reads", async () => {
    const events = await openLog()
    await seed(events, 20)
    const source = events.workerSource?.() as WorkerSource
    expect(source).toMatchObject({ export: 'openPostgresLogReader' })
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads')
       import(workerData.module).then(async (loaded) => {
         const reader = await loaded[workerData.export](workerData.options)
         const read = await reader.readAll({ after: 3, limit: 5, types: ['PassIssued'] })
         await reader.close()
         parentPort.postMessage({ id: reader.id, read })
       })`,
      { eval: true, workerData: source },
    )
    cleanups.push(() => worker.terminate())
    const answer = await new Promise<{ id: string; read: unknown }>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    expect(answer.id).toBe(events.id)
    expect(answer.read).toEqual(await events.readAll({ after: 3, limit: 5, types: ['PassIssued'] }))
  })

  it('builds every view in workers, with the same SHA-256 dumps as a main-thread build', async () => {
    const events = await openLog()
    const head = await seed(events, 300)
    const { dir: root, cleanup } = tempDir('eskit-pg-workers-')
    cleanups.push(cleanup)

    const serial = collect(events, path.join(root, 'serial'), 0)
    const serialDone = rebuilt(serial.collector, names)
    await serial.collector.start()
    await serialDone
    await serial.collector.waitFor(head)
    expect(serial.logger.find('debug', 'lent to a worker')).toEqual([])

    const parallel = collect(events, path.join(root, 'parallel'), 2)
    const progress: ProgressInfo[] = []
    parallel.collector.on('progress', (info: ProgressInfo) => progress.push(info))
    const parallelDone = rebuilt(parallel.collector, names)
    await parallel.collector.start()
    await parallelDone
    await parallel.collector.waitFor(head)
    // no fall-back: no line saying why a build stays on the main thread, no failed worker
    expect(parallel.logger.find('info', 'builds on the main thread')).toEqual([])
    expect(parallel.logger.find('warn', 'build worker')).toEqual([])
    const lentNames = names.filter((name) => lent(parallel.logger, name) > 0)
    // two workers take a share each, the main thread keeps the third
    expect(lentNames.length).toBeGreaterThanOrEqual(2)
    for (const name of lentNames) {
      // progress the worker reported: a checkpoint short of the target
      expect(progress.some((p) => p.name === name && p.position > 0 && p.position < p.target)).toBe(true)
    }
    expect(parallel.collector.status().map((s) => [s.name, s.state, s.position])).toEqual(
      names.map((name) => [name, 'live', head]),
    )

    await serial.collector.stop()
    await parallel.collector.stop()
    for (const name of names) {
      expect(dumpProjectionFile(path.join(root, 'parallel', `${name}.db`)).sha256).toBe(
        dumpProjectionFile(path.join(root, 'serial', `${name}.db`)).sha256,
      )
    }
    // every worker closed its connection when its build ended
    const activity = await observer()
    await eventually(async () => (await readerConnections(activity)) === 0, 'no reader connection left')
  })

  it('stop() during worker builds discards them and leaves no connection of theirs open', async () => {
    const events = await openLog()
    const head = await seed(events, 1500)
    const activity = await observer()
    const { dir: root, cleanup } = tempDir('eskit-pg-workers-')
    cleanups.push(cleanup)
    const dir = path.join(root, 'projections')
    const { collector, logger } = collect(events, dir, 2)
    const stopped = new Promise<{ name: string; open: number }>((resolve, reject) => {
      let stopping = false
      collector.on('progress', (info: ProgressInfo) => {
        if (stopping || lent(logger, info.name) === 0 || info.position <= 0 || info.position >= info.target)
          return
        stopping = true
        // a build in a worker is under way: its connection is open now
        readerConnections(activity)
          .then(async (open) => {
            await collector.stop()
            resolve({ name: info.name, open })
          })
          .catch(reject)
      })
    })
    await collector.start()
    const { name, open } = await stopped
    expect(open).toBeGreaterThanOrEqual(1)
    await eventually(async () => (await readerConnections(activity)) === 0, 'the workers’ connections closed')
    expect(fs.readdirSync(path.join(dir, '.eskit', 'builds'))).toEqual([])
    // nothing half-built was swapped in
    const db = new Database(path.join(dir, `${name}.db`), { readonly: true })
    const { position } = db.prepare('select position from _eskit_projection').get() as { position: number }
    db.close()
    expect(position).toBe(0)
    expect(head).toBeGreaterThan(0)
  })

  it('the password never appears in log lines, status, or the printed worker source', async () => {
    const password = secret()
    const events = await openLog()
    const head = await seed(events, 100)
    const { dir: root, cleanup } = tempDir('eskit-pg-workers-')
    cleanups.push(cleanup)
    const { collector, logger } = collect(events, path.join(root, 'projections'), 2)
    const done = rebuilt(collector, names)
    await collector.start()
    await done
    await collector.waitFor(head)
    expect(names.some((name) => lent(logger, name) > 0)).toBe(true)
    expect(JSON.stringify(logger.lines)).not.toContain(password)
    expect(JSON.stringify(collector.status())).not.toContain(password)

    const source = events.workerSource?.() as WorkerSource
    for (const printed of [JSON.stringify(source), util.inspect(source, { depth: 5 }), `${source.options}`]) {
      expect(printed).not.toContain(password)
      expect(printed).not.toContain(encodeURIComponent(password))
    }
    expect(JSON.stringify(source)).toContain(':***@')
    // what a worker receives (a structured clone) is the whole connection string
    expect(structuredClone(source.options)).toMatchObject({ connectionString: databaseUrl(), id: events.id })
  })

  it('a pool the application owns keeps builds on the main thread, with a log line saying why', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 4 })
    pool.on('error', () => {})
    cleanups.push(() => pool.end())
    const events = await openPostgresEventStore({ pool, schema: freshSchema() })
    cleanups.push(() => events.close())
    expect(events.workerSource?.()).toBeNull()
    const head = await seed(events, 50)
    const { dir: root, cleanup } = tempDir('eskit-pg-workers-')
    cleanups.push(cleanup)
    const { collector, logger } = collect(events, path.join(root, 'projections'), 2)
    const done = rebuilt(collector, names)
    await collector.start()
    await done
    await collector.waitFor(head)
    expect(logger.find('info', 'builds on the main thread').map((line) => line.fields)).toEqual(
      names.map((name) => ({ name, reason: 'the event log cannot be opened in a worker' })),
    )
    expect(logger.find('debug', 'lent to a worker')).toEqual([])
  })

  it('a worker that cannot reach the server reports UNAVAILABLE; the main thread finishes the build', async () => {
    const password = secret()
    const schema = freshSchema()
    // seeded directly, then read through a proxy that stops taking new connections: the store's
    // pooled connections stay up, a worker's new one is refused
    const head = await seed(await openLog({ schema }), 100)
    const server = new URL(databaseUrl())
    const proxy = await forwardingProxy(Number(server.port), server.hostname)
    cleanups.push(() => proxy.close())
    const viaProxy = new URL(databaseUrl())
    viaProxy.port = String(proxy.port)
    const events = await openLog({ connectionString: viaProxy.toString(), schema })
    // warm the pool: the collector's reads then need no new connection
    await Promise.all(Array.from({ length: 4 }, () => events.head()))
    events.onAppend(() => {})
    await eventually(() => proxy.connections() >= 5, 'the pool and the LISTEN connection')
    await proxy.refuseNew()

    const { dir: root, cleanup } = tempDir('eskit-pg-workers-')
    cleanups.push(cleanup)
    const { collector, logger } = collect(events, path.join(root, 'projections'), 2)
    const done = rebuilt(collector, names)
    await collector.start()
    await done
    await collector.waitFor(head)
    const failed = logger.find('warn', 'build worker of the projection failed')
    expect(failed.length).toBeGreaterThanOrEqual(1)
    for (const line of failed) expect(line.fields?.code).toBe('UNAVAILABLE')
    expect(JSON.stringify(logger.lines)).not.toContain(password)
    expect(collector.status().map((s) => [s.name, s.position])).toEqual(names.map((name) => [name, head]))
  })
})

/** A TCP proxy to the server that can stop accepting connections while keeping the open ones. */
async function forwardingProxy(port: number, host: string) {
  const sockets = new Set<net.Socket>()
  let open = 0
  const proxy = net.createServer((client) => {
    open += 1
    const upstream = net.connect(port, host)
    sockets.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const address = proxy.address() as net.AddressInfo
  let closed: Promise<void> | undefined
  const refuseNew = (): Promise<void> => {
    closed ??= new Promise((resolve) => proxy.close(() => resolve()))
    return Promise.resolve()
  }
  return {
    port: address.port,
    connections: () => open,
    refuseNew,
    close: async () => {
      void refuseNew()
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}

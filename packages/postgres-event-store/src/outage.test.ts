import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {
  createCollector,
  type EventStore,
  isEskitError,
  type Projection,
  type StoredEvent,
} from '@eskit/core'
import { readStatusFile, sqliteStore } from '@eskit/sqlite-store'
import { createTestDatabase, type PostgresServer, startPostgres } from '@eskit/test-postgres'
import type Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgresEventStore } from './open-postgres-event-store.js'
import { freshSchema, recordingLogger, sql, until } from './test-helpers.js'

// A server of this file's own: these tests stop it (one file, so one extra cluster per run).
let server: PostgresServer
let url: string
let dirs: string
beforeAll(async () => {
  dirs = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-pg-outage-'))
  server = await startPostgres()
  url = (await createTestDatabase(server.url(), 'outage')).url
})
afterAll(async () => {
  await server?.close()
  if (dirs) fs.rmSync(dirs, { recursive: true, force: true })
})

const ev = (n: number) => ({ type: 'T', data: { n } })

/** A TCP proxy in front of the server that can be frozen: connections stay open, nothing passes. */
async function frozenProxy(target: number) {
  let frozen = false
  const sockets = new Set<net.Socket>()
  const proxy = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.on('data', (chunk) => {
      if (!frozen) upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk)
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const port = (proxy.address() as net.AddressInfo).port
  return {
    port,
    freeze: () => {
      frozen = true
    },
    thaw: () => {
      frozen = false
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => proxy.close(resolve))
    },
  }
}

describe('when PostgreSQL cannot be reached', () => {
  it('open rejects with UNAVAILABLE at once when nothing listens, and the password stays out of the message', async () => {
    const probe = net.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as net.AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const logger = recordingLogger()
    const error = await openPostgresEventStore({
      connectionString: `postgres://app:s3cr%40t-pass@127.0.0.1:${port}/app`,
      logger,
    }).catch((e) => e)
    expect(isEskitError(error, 'UNAVAILABLE')).toBe(true)
    const text = `${error.message} ${JSON.stringify(error.details)} ${JSON.stringify(logger.lines)}`
    expect(text).not.toContain('s3cr')
    expect(text).not.toContain('s3cr%40t-pass')
  })

  it('a server that stops answering: open, append and reads reject with UNAVAILABLE within timeoutMs, never hang', async () => {
    const proxy = await frozenProxy(server.port)
    const target = new URL(url)
    target.port = String(proxy.port)
    const schema = freshSchema()
    // migrated beforehand with the default deadline: a loaded machine may take longer than the
    // short one below to create the schema, which is not what this test is about
    await (await openPostgresEventStore({ connectionString: url, schema })).close()
    const events = await openPostgresEventStore({
      connectionString: target.toString(),
      schema,
      timeoutMs: 1000,
    })
    try {
      await events.append('a', [ev(1)])
      proxy.freeze()
      const started = Date.now()
      const failures = await Promise.all([
        events.append('a', [ev(2)]).catch((e) => e),
        events.head().catch((e) => e),
        events.readAll({ after: 0, limit: 10 }).catch((e) => e),
      ])
      for (const failure of failures) expect(isEskitError(failure, 'UNAVAILABLE')).toBe(true)
      expect(Date.now() - started).toBeLessThan(3000)
      const opening = await openPostgresEventStore({
        connectionString: target.toString(),
        timeoutMs: 1000,
      }).catch((e) => e)
      expect(isEskitError(opening, 'UNAVAILABLE')).toBe(true)
      proxy.thaw()
      // back by itself: the broken connections were dropped, new ones work
      expect(await events.append('a', [ev(3)])).toMatchObject({ streamVersion: 2 })
      expect((await events.readStream('a')).map((e) => e.data)).toEqual([{ n: 1 }, { n: 3 }])
    } finally {
      await events.close()
      await proxy.close()
    }
  })

  it('a lock held elsewhere fails an append with BUSY after lockTimeoutMs, writing nothing', async () => {
    const schema = freshSchema()
    const events = await openPostgresEventStore({ connectionString: url, schema, lockTimeoutMs: 100 })
    const pg = (await import('pg')).default
    const blocker = new pg.Client({ connectionString: url })
    await blocker.connect()
    try {
      await events.append('a', [ev(1)])
      await blocker.query(`BEGIN; SELECT * FROM ${schema}.eskit_head FOR UPDATE`)
      const error = await events.append('a', [ev(2)]).catch((e) => e)
      expect(isEskitError(error, 'BUSY')).toBe(true)
      await blocker.query('ROLLBACK')
      expect(await events.head()).toBe(1)
      expect(await events.append('a', [ev(3)])).toEqual({ position: 2, streamVersion: 2 })
    } finally {
      await blocker.end()
      await events.close()
    }
  })
})

describe('server stopped and started', () => {
  it('appends during the outage fail with UNAVAILABLE; every acknowledged one is kept; appends resume by themselves', async () => {
    const schema = freshSchema()
    const events: EventStore = await openPostgresEventStore({
      connectionString: url,
      schema,
      timeoutMs: 1000,
    })
    const acknowledged: number[] = []
    const refused: unknown[] = []
    let running = true
    let sent = 0
    const clients = Array.from({ length: 4 }, async (_, client) => {
      while (running) {
        const n = sent++
        try {
          await events.append(`c${client}`, [ev(n)])
          acknowledged.push(n)
        } catch (error) {
          refused.push(error)
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
    })
    try {
      await until(() => acknowledged.length >= 50, 10_000, 'appends before the outage')
      await server.stop()
      await until(() => refused.length >= 4, 10_000, 'refused appends')
      const beforeRestart = acknowledged.length
      await server.start()
      await until(() => acknowledged.length >= beforeRestart + 50, 15_000, 'appends after the restart')
    } finally {
      running = false
      await Promise.all(clients)
    }
    for (const error of refused) expect(isEskitError(error, 'UNAVAILABLE')).toBe(true)
    const stored = await events.readAll({ after: 0, limit: 100_000 })
    // dense, and every acknowledged append is there exactly once
    expect(stored.map((e) => e.position)).toEqual(stored.map((_, i) => i + 1))
    const seen = stored.map((e) => (e.data as { n: number }).n)
    expect(new Set(seen).size).toBe(seen.length)
    for (const n of acknowledged) expect(seen).toContain(n)
    await events.close()
  })

  it('onAppend keeps hearing appends of another store after the server restarts', async () => {
    const schema = freshSchema()
    const listener = await openPostgresEventStore({ connectionString: url, schema, pollIntervalMs: 600_000 })
    const writer = await openPostgresEventStore({ connectionString: url, schema })
    const heads: number[] = []
    listener.onAppend((head) => heads.push(head))
    try {
      await writer.append('a', [ev(1)])
      await until(() => heads.includes(1), 5000, 'the first notification')
      await server.stop()
      await server.start()
      await until(
        async () => (await writer.append('a', [ev(2)]).catch(() => undefined)) !== undefined,
        10_000,
        'an append after the restart',
      )
      await until(() => heads.includes(2), 10_000, 'the head after the restart')
      expect(await sql(url, `SELECT count(*)::int AS n FROM ${schema}.eskit_events`)).toEqual([{ n: 2 }])
    } finally {
      await listener.close()
      await writer.close()
    }
  })
})

const positions: Projection<Database.Database> = {
  name: 'positions',
  version: '1',
  setup: (db) => {
    db.exec('CREATE TABLE IF NOT EXISTS seen (position INTEGER PRIMARY KEY, stream TEXT NOT NULL)')
  },
  apply: (events: readonly StoredEvent[], db) => {
    const insert = db.prepare('INSERT INTO seen (position, stream) VALUES (?, ?)')
    for (const event of events) insert.run(event.position, event.streamId)
  },
}

describe('a collector on the log (behaviour 19)', () => {
  it('while the log is down the projection serves, status and the status file say since when and why; it resumes by itself, nothing lost or doubled', async () => {
    const schema = freshSchema()
    const events = await openPostgresEventStore({ connectionString: url, schema, timeoutMs: 1000 })
    const projectionsDir = fs.mkdtempSync(path.join(dirs, 'projections-'))
    const collector = createCollector({
      events,
      store: sqliteStore({ dir: projectionsDir }),
      pollIntervalMs: 50,
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
    })
    collector.add(positions as Projection)
    await collector.start()
    try {
      for (let i = 0; i < 5; i++) await events.append(`s${i}`, [{ type: 'T', data: { i } }])
      await collector.waitFor(5)
      const count = () =>
        (
          collector
            .reader<Database.Database>('positions')
            .prepare('SELECT count(*) AS n FROM seen')
            .get() as {
            n: number
          }
        ).n
      const before = Date.now()
      await server.stop()
      await until(
        () => collector.status()[0]?.logUnreachable !== undefined,
        10_000,
        'the log reported unreachable',
      )
      const status = collector.status()[0]
      expect(status?.logUnreachable?.code).toBe('UNAVAILABLE')
      expect(status?.logUnreachable?.since).toBeGreaterThanOrEqual(before)
      expect(status?.state).toBe('live')
      // the projection's file keeps serving reads
      expect(count()).toBe(5)
      // the owner publishes it for `eskit status`
      await until(
        () => readStatusFile(projectionsDir)?.projections[0]?.logUnreachable !== undefined,
        5000,
        'the status file',
      )
      expect(readStatusFile(projectionsDir)?.projections[0]?.logUnreachable?.code).toBe('UNAVAILABLE')

      await server.start()
      let appended: { position: number } | undefined
      await until(
        async () => {
          appended = await events.append('after', [{ type: 'T', data: {} }]).catch(() => undefined)
          return appended !== undefined
        },
        10_000,
        'an append after the restart',
      )
      await collector.waitFor(appended?.position ?? 6, { timeoutMs: 10_000 })
      await until(() => collector.status()[0]?.logUnreachable === undefined, 5000, 'the status to clear')
      const seen = collector
        .reader<Database.Database>('positions')
        .prepare('SELECT position FROM seen ORDER BY position')
        .all()
        .map((row) => (row as { position: number }).position)
      expect(seen).toEqual(Array.from({ length: appended?.position ?? 0 }, (_, i) => i + 1))
    } finally {
      await collector.stop()
      await events.close()
    }
  })
})

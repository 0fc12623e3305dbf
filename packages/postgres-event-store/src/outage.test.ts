import net from 'node:net'
import { type EventStore, isEskitError } from '@eskit/core'
import { createTestDatabase, type PostgresServer, startPostgres } from '@eskit/test-postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgresEventStore } from './open-postgres-event-store.js'
import { freshSchema, recordingLogger, sql, until } from './test-helpers.js'

// A server of this file's own: these tests stop it.
let server: PostgresServer
let url: string
beforeAll(async () => {
  server = await startPostgres()
  url = (await createTestDatabase(server.url(), 'outage')).url
})
afterAll(async () => {
  await server?.close()
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
    const events = await openPostgresEventStore({
      connectionString: target.toString(),
      schema: freshSchema(),
      timeoutMs: 300,
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
        timeoutMs: 300,
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

import net from 'node:net'
import { type EventStore, isEskitError } from '@eskit/core'
import { eventually } from '@eskit/test-kit'
import { useTestDatabase } from '@eskit/test-postgres'
import { afterEach, describe, expect, it } from 'vitest'
import { openPostgresLogReader, READER_APPLICATION_NAME } from './log-reader.js'
import { openPostgresEventStore } from './open-postgres-event-store.js'
import { freshSchema, sql } from './test-helpers.js'

const databaseUrl = useTestDatabase('reader')
const opened: EventStore[] = []
afterEach(async () => {
  for (const store of opened.splice(0).reverse()) await store.close()
})

async function logWithEvents(): Promise<{ events: EventStore; schema: string }> {
  const schema = freshSchema()
  const events = await openPostgresEventStore({ connectionString: databaseUrl(), schema })
  opened.push(events)
  for (let i = 0; i < 10; i++) {
    await events.append(`s-${i % 3}`, [
      { type: i % 2 === 0 ? 'Even' : 'Odd', data: { i }, metadata: { by: 'test' } },
      { type: 'Tick', data: { i } },
    ])
  }
  return { events, schema }
}

async function reader(schema: string, id?: string): Promise<EventStore> {
  const opened_ = await openPostgresLogReader({
    connectionString: databaseUrl(),
    schema,
    ...(id === undefined ? {} : { id }),
  })
  opened.push(opened_)
  return opened_
}

const readerConnections = async (): Promise<number> =>
  (
    await sql<{ n: number }>(
      databaseUrl(),
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [READER_APPLICATION_NAME],
    )
  )[0]?.n ?? 0

describe('openPostgresLogReader', () => {
  it('reads what the store reads: the same id, events, type filters, limits, streams and head', async () => {
    const { events, schema } = await logWithEvents()
    const log = await reader(schema, events.id)
    expect(log.id).toBe(events.id)
    expect(await log.head()).toBe(20)
    for (const options of [
      { after: 0, limit: 100 },
      { after: 5, limit: 4 },
      { after: 0, limit: 3, types: ['Odd'] },
      { after: 2, limit: 100, types: ['Even', 'Odd', 'Even'] },
      { after: 0, limit: 100, types: [] },
      { after: 20, limit: 100 },
    ]) {
      expect(await log.readAll(options)).toEqual(await events.readAll(options))
    }
    expect(await log.readStream('s-1')).toEqual(await events.readStream('s-1'))
    expect((await log.readAll({ after: 0, limit: 1 }))[0]).toMatchObject({
      position: 1,
      type: 'Even',
      metadata: { by: 'test' },
    })
    await expect(log.readAll({ after: -1, limit: 10 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('uses one connection, closed with the reader', async () => {
    const { schema } = await logWithEvents()
    const log = await reader(schema)
    await Promise.all(Array.from({ length: 5 }, (_, i) => log.readAll({ after: i, limit: 3 })))
    expect(await readerConnections()).toBe(1)
    await log.close()
    await eventually(async () => (await readerConnections()) === 0, 'the reader connection closed')
    await expect(log.readAll({ after: 0, limit: 1 })).rejects.toMatchObject({ code: 'CLOSED' })
  })

  it('refuses appends and onAppend with READ_ONLY and writes nothing', async () => {
    const { events, schema } = await logWithEvents()
    const log = await reader(schema)
    await expect(log.append('s-9', [{ type: 'X', data: {} }])).rejects.toMatchObject({ code: 'READ_ONLY' })
    expect(() => log.onAppend(() => {})).toThrow(expect.objectContaining({ code: 'READ_ONLY' }))
    expect(await events.head()).toBe(20)
    expect(await events.readStream('s-9')).toEqual([])
  })

  it('creates nothing: a schema without a log is NOT_FOUND, and another log than `id` too', async () => {
    const missing = freshSchema()
    const error = await openPostgresLogReader({ connectionString: databaseUrl(), schema: missing }).catch(
      (e) => e,
    )
    expect(isEskitError(error, 'NOT_FOUND')).toBe(true)
    expect(error.message).toContain(missing)
    expect(await sql(databaseUrl(), 'SELECT 1 FROM pg_namespace WHERE nspname = $1', [missing])).toEqual([])

    const { schema } = await logWithEvents()
    const other = await openPostgresLogReader({
      connectionString: databaseUrl(),
      schema,
      id: 'another-log',
    }).catch((e) => e)
    expect(isEskitError(other, 'NOT_FOUND')).toBe(true)
    expect(other.message).toContain('another-log')
    await eventually(async () => (await readerConnections()) === 0, 'the refused readers closed')
  })

  it('is UNAVAILABLE when nothing listens, without the password in message or details', async () => {
    const probe = net.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as net.AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const error = await openPostgresLogReader({
      connectionString: `postgres://app:s3cr%40t-pass@127.0.0.1:${port}/app`,
      timeoutMs: 2000,
    }).catch((e) => e)
    expect(isEskitError(error, 'UNAVAILABLE')).toBe(true)
    const text = `${error.message} ${JSON.stringify(error.details)}`
    expect(text).not.toContain('s3cr')
  })

  it('refuses bad options with INVALID_ARGUMENT before connecting', async () => {
    for (const options of [
      null,
      {},
      { connectionString: '' },
      { connectionString: databaseUrl(), schema: 'Bad-Name' },
      { connectionString: databaseUrl(), timeoutMs: 0 },
      { connectionString: databaseUrl(), id: '' },
    ]) {
      const error = await openPostgresLogReader(options as never).catch((e) => e)
      expect(isEskitError(error, 'INVALID_ARGUMENT'), JSON.stringify(options)).toBe(true)
    }
  })
})

describe('workerSource() of the store', () => {
  it('names the reader for a store opened from a connection string, and nothing once closed', async () => {
    const schema = freshSchema()
    const events = await openPostgresEventStore({ connectionString: databaseUrl(), schema, timeoutMs: 4000 })
    const source = events.workerSource?.()
    expect(source?.module).toMatch(/^file:.*\/dist\/index\.mjs$/)
    expect(source?.export).toBe('openPostgresLogReader')
    expect(structuredClone(source?.options)).toEqual({
      connectionString: databaseUrl(),
      schema,
      timeoutMs: 4000,
      id: events.id,
    })
    await events.close()
    expect(events.workerSource?.()).toBeNull()
  })
})

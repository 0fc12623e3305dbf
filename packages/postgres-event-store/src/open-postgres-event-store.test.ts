import { type EventStore, isEskitError } from '@eskit/core'
import { useTestDatabase } from '@eskit/test-postgres'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createConnections } from './connections.js'
import { openPostgresEventStore } from './open-postgres-event-store.js'
import { createLogReads, readQueries } from './reader.js'
import { createRedactor } from './redact.js'
import { quoteIdentifier } from './schema.js'
import { freshSchema, recordingLogger, sql, until } from './test-helpers.js'

const databaseUrl = useTestDatabase('store')
const opened: EventStore[] = []
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close()
})
async function open(
  options: Partial<Parameters<typeof openPostgresEventStore>[0]> = {},
): Promise<EventStore> {
  const store = await openPostgresEventStore({ connectionString: databaseUrl(), ...options } as Parameters<
    typeof openPostgresEventStore
  >[0])
  opened.push(store)
  return store
}
const ev = (n: number) => ({ type: 'T', data: { n } })

describe('schema', () => {
  it("creates its tables in the schema 'eskit' by default, and every node of the log gets the same id", async () => {
    const first = await open()
    const second = await open()
    expect(second.id).toBe(first.id)
    const tables = await sql<{ tablename: string }>(
      databaseUrl(),
      "SELECT tablename FROM pg_tables WHERE schemaname = 'eskit' ORDER BY tablename",
    )
    expect(tables.map((t) => t.tablename)).toEqual(['eskit_events', 'eskit_head', 'eskit_meta'])
    const other = await open({ schema: freshSchema() })
    expect(other.id).not.toBe(first.id)
  })

  it('stores opening one fresh schema at once take turns migrating it and all get the same log', async () => {
    for (let round = 0; round < 3; round++) {
      const schema = freshSchema()
      const stores = await Promise.all(Array.from({ length: 8 }, () => open({ schema })))
      expect(new Set(stores.map((store) => store.id)).size).toBe(1)
    }
  })

  it('refuses a schema that holds other tables with CORRUPT, and drops nothing', async () => {
    const schema = freshSchema('app')
    await sql(
      databaseUrl(),
      `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.orders (id int); INSERT INTO ${schema}.orders VALUES (1)`,
    )
    const error = await open({ schema }).catch((e) => e)
    expect(isEskitError(error, 'CORRUPT')).toBe(true)
    expect(error.message).toContain(schema)
    expect(await sql(databaseUrl(), `SELECT id FROM ${schema}.orders`)).toEqual([{ id: 1 }])
    expect(await sql(databaseUrl(), `SELECT to_regclass('${schema}.eskit_events') AS t`)).toEqual([
      { t: null },
    ])
  })

  it('refuses a log of a newer format with CORRUPT, and leaves its events', async () => {
    const schema = freshSchema()
    const store = await open({ schema })
    await store.append('a', [ev(1)])
    await store.close()
    await sql(databaseUrl(), `UPDATE ${schema}.eskit_meta SET value = '99' WHERE key = 'version'`)
    const error = await open({ schema }).catch((e) => e)
    expect(isEskitError(error, 'CORRUPT')).toBe(true)
    expect(error.details).toMatchObject({ version: 99, supported: 1 })
    expect(await sql(databaseUrl(), `SELECT count(*)::int AS n FROM ${schema}.eskit_events`)).toEqual([
      { n: 1 },
    ])
  })

  it('refuses a schema name that is not 1-48 chars of a-z 0-9 _ with INVALID_ARGUMENT, before connecting', async () => {
    for (const schema of ['', 'Upper', 'a-b', 'x"; DROP SCHEMA public; --', '1abc', 'a'.repeat(49)]) {
      const error = await openPostgresEventStore({
        connectionString: 'postgres://nobody@127.0.0.1:1/none',
        schema,
      }).catch((e) => e)
      expect(isEskitError(error, 'INVALID_ARGUMENT')).toBe(true)
    }
  })

  it('a wrong password is READ_ONLY (authentication failed), and neither password reaches the error or the log', async () => {
    const url = new URL(databaseUrl())
    const real = decodeURIComponent(url.password)
    url.password = 'wr0ng-Secret'
    const logger = recordingLogger()
    const error = await openPostgresEventStore({ connectionString: url.toString(), logger }).catch((e) => e)
    expect(isEskitError(error, 'READ_ONLY')).toBe(true)
    expect(error.details.pgCode).toBe('28P01')
    const text = `${error.message} ${JSON.stringify(error.details)} ${JSON.stringify(logger.lines)}`
    expect(text).not.toContain('wr0ng-Secret')
    expect(text).not.toContain(real)
  })

  it('refuses bad options with INVALID_ARGUMENT', async () => {
    const bad: unknown[] = [
      undefined,
      {},
      { connectionString: '' },
      { connectionString: databaseUrl(), pool: new pg.Pool() },
      { connectionString: databaseUrl(), timeoutMs: 0 },
      { connectionString: databaseUrl(), lockTimeoutMs: -1 },
      { connectionString: databaseUrl(), pollIntervalMs: Number.NaN },
      { pool: {} },
    ]
    for (const options of bad) {
      const error = await openPostgresEventStore(options as never).catch((e) => e)
      expect(isEskitError(error, 'INVALID_ARGUMENT')).toBe(true)
    }
  })
})

describe('group commit', () => {
  it('commits concurrent appends with dense positions, each with its own result', async () => {
    const store = await open({ schema: freshSchema() })
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        store.append(`s${i % 7}`, i % 3 === 0 ? [ev(i), ev(i)] : [ev(i)]),
      ),
    )
    const total = results.length + Math.ceil(200 / 3)
    expect(await store.head()).toBe(total)
    const all = await store.readAll({ after: 0, limit: 1000 })
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    // each append got the position of its own last event
    results.forEach((result, i) => {
      const event = all[result.position - 1]
      expect(event?.streamId).toBe(`s${i % 7}`)
      expect(event?.data).toEqual({ n: i })
      expect(event?.streamVersion).toBe(result.streamVersion)
    })
    for (let s = 0; s < 7; s++) {
      const versions = (await store.readStream(`s${s}`)).map((e) => e.streamVersion)
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1))
    }
  })

  it('fails only the append whose expectedVersion is wrong; the others in its group commit', async () => {
    const store = await open({ schema: freshSchema() })
    await store.append('taken', [ev(0)])
    const outcomes = await Promise.allSettled([
      store.append('a', [ev(1)], { expectedVersion: 'no-stream' }),
      store.append('taken', [ev(2)], { expectedVersion: 'no-stream' }),
      store.append('a', [ev(3)], { expectedVersion: 1 }),
      store.append('b', [ev(4)], { expectedVersion: 5 }),
      store.append('b', [ev(5)], { expectedVersion: 0 }),
    ])
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ])
    const second = (outcomes[1] as PromiseRejectedResult).reason
    expect(isEskitError(second, 'CONCURRENCY')).toBe(true)
    expect(second.details).toEqual({ streamId: 'taken', expected: 'no-stream', actual: 1 })
    expect((outcomes[3] as PromiseRejectedResult).reason.details).toEqual({
      streamId: 'b',
      expected: 5,
      actual: 0,
    })
    expect(
      (await store.readAll({ after: 0, limit: 10 })).map((e) => [e.position, e.streamId, e.streamVersion]),
    ).toEqual([
      [1, 'taken', 1],
      [2, 'a', 1],
      [3, 'a', 2],
      [4, 'b', 1],
    ])
  })

  it('an append PostgreSQL cannot store (NUL in a stream id) fails with INVALID_EVENT alone', async () => {
    const store = await open({ schema: freshSchema() })
    const outcomes = await Promise.allSettled([
      store.append('ok-1', [ev(1)]),
      store.append('bad\u0000id', [ev(2)]),
      store.append('ok-2', [{ type: 'nul\u0000type', data: {} }]),
      store.append('ok-3', [ev(3)]),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    for (const index of [1, 2]) {
      expect(isEskitError((outcomes[index] as PromiseRejectedResult).reason, 'INVALID_EVENT')).toBe(true)
    }
    expect((await store.readAll({ after: 0, limit: 10 })).map((e) => e.streamId)).toEqual(['ok-1', 'ok-3'])
  })

  it('a 100-event append gets consecutive positions and versions', async () => {
    const store = await open({ schema: freshSchema() })
    await store.append('x', [ev(0)])
    const events = Array.from({ length: 100 }, (_, i) => ev(i))
    expect(await store.append('big', events, { expectedVersion: 'no-stream' })).toEqual({
      position: 101,
      streamVersion: 100,
    })
    const stream = await store.readStream('big')
    expect(stream.map((e) => e.position)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2))
  })
})

describe('reads', () => {
  it('filters types in SQL on the (type, position) index', async () => {
    const schema = freshSchema()
    const store = await open({ schema })
    for (let i = 0; i < 20; i++) await store.append(`s${i}`, [{ type: i % 2 ? 'Odd' : 'Even', data: { i } }])
    const client = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    try {
      await client.query('SET enable_seqscan = off')
      const plan = (
        await client.query(
          `EXPLAIN SELECT e.* FROM unnest($1::text[]) AS t(type) CROSS JOIN LATERAL (SELECT position FROM ${schema}.eskit_events x WHERE x.type = t.type AND x.position > 0 ORDER BY x.position LIMIT 10) e ORDER BY e.position LIMIT 10`,
          [['Odd', 'Even']],
        )
      ).rows
        .map((row) => row['QUERY PLAN'])
        .join('\n')
      expect(plan).toContain('eskit_events_type_position')
    } finally {
      await client.end()
    }
    const two = await store.readAll({ after: 3, limit: 5, types: ['Odd', 'Even', 'Odd'] })
    expect(two.map((e) => e.position)).toEqual([4, 5, 6, 7, 8])
    const odd = await store.readAll({ after: 0, limit: 3, types: ['Odd'] })
    expect(odd.map((e) => e.position)).toEqual([2, 4, 6])
    expect(await store.readAll({ after: 0, limit: 3, types: [] })).toEqual([])
  })

  it("does not change the application pool's type parsers, and recordedAt is the commit time", async () => {
    const before = Date.now()
    const store = await open({ schema: freshSchema() })
    await store.append('a', [ev(1)])
    const [event] = await store.readAll({ after: 0, limit: 1 })
    expect(event?.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 1000)
    expect(event?.recordedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000)
    // pg's global parser for int8 still gives strings
    expect(await sql(databaseUrl(), 'SELECT 1::int8 AS n')).toEqual([{ n: '1' }])
  })
})

describe('live', () => {
  it('an append through one store wakes onAppend of another store on the same log (NOTIFY after commit)', async () => {
    const schema = freshSchema()
    // A poll too slow to matter: only the notification can deliver the head in time.
    const listener = await open({ schema, pollIntervalMs: 600_000 })
    const writer = await open({ schema })
    const heads: number[] = []
    listener.onAppend((head) => heads.push(head))
    await until(
      async () =>
        (
          await sql(
            databaseUrl(),
            `SELECT 1 FROM pg_stat_activity WHERE query = 'LISTEN "${schema}_eskit_append"'`,
          )
        ).length > 0,
    )
    await writer.append('a', [ev(1), ev(2)])
    await until(() => heads.includes(2), 5000, 'the notification')
    await writer.append('a', [ev(3)])
    await until(() => heads.includes(3), 5000, 'the second notification')
    expect(heads).toEqual([2, 3])
  })

  it('hears appends again after its LISTEN connection is terminated (reconnect, then re-poll)', async () => {
    const schema = freshSchema()
    const logger = recordingLogger()
    const listener = await open({ schema, pollIntervalMs: 600_000, logger })
    const writer = await open({ schema })
    const heads: number[] = []
    listener.onAppend((head) => heads.push(head))
    const listening = `SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN "${schema}_eskit_append"'`
    await until(async () => (await sql(databaseUrl(), listening)).length > 0)
    const [{ pid }] = (await sql<{ pid: number }>(databaseUrl(), listening)) as [{ pid: number }]
    await sql(databaseUrl(), 'SELECT pg_terminate_backend($1)', [pid])
    // appended while nobody listens: only the re-poll after the reconnect can tell it
    await writer.append('a', [ev(1)])
    await until(() => heads.includes(1), 10_000, 'the re-poll after reconnect')
    await until(async () => (await sql(databaseUrl(), listening)).some((row) => row.pid !== pid))
    await writer.append('a', [ev(2)])
    await until(() => heads.includes(2), 5000, 'a notification on the new connection')
    expect(heads).toEqual([1, 2])
    expect(logger.lines.some((line) => line.message.includes('LISTEN connection lost'))).toBe(true)
  })

  it('the safety poll delivers appends when no notification comes', async () => {
    const schema = freshSchema()
    const listener = await open({ schema, pollIntervalMs: 50 })
    const heads: number[] = []
    listener.onAppend((head) => heads.push(head))
    // written behind the store's back: no NOTIFY at all
    await sql(
      databaseUrl(),
      `SELECT * FROM ${schema}.eskit_append(ARRAY['a'], ARRAY[NULL]::bigint[], ARRAY['["T"]'], ARRAY['[{}]'], ARRAY['[null]'], '1s')`,
    )
    await until(() => heads.includes(1), 5000, 'the poll')
  })
})

describe('close', () => {
  it("ends its own connections and the LISTEN connection, never the application's pool", async () => {
    const schema = freshSchema()
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 3, application_name: 'the-app' })
    try {
      const store = await openPostgresEventStore({ pool, schema })
      store.onAppend(() => {})
      await store.append('a', [ev(1)])
      const listening = `SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN "${schema}_eskit_append"'`
      await until(async () => (await sql(databaseUrl(), listening)).length === 1)
      await store.close()
      await until(
        async () => (await sql(databaseUrl(), listening)).length === 0,
        5000,
        'the LISTEN connection to end',
      )
      expect((await pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }])
    } finally {
      await pool.end()
    }
  })

  it('with a connection string, leaves no connection of its own behind', async () => {
    const name = `eskit_close_${Date.now()}`
    const url = new URL(databaseUrl())
    url.searchParams.set('application_name', name)
    const store = await openPostgresEventStore({ connectionString: url.toString(), schema: freshSchema() })
    store.onAppend(() => {})
    await store.append('a', [ev(1)])
    const mine = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = '${name}'`
    await until(
      async () => ((await sql<{ n: number }>(databaseUrl(), mine))[0]?.n ?? 0) >= 2,
      5000,
      'pool and LISTEN',
    )
    await store.close()
    await until(
      async () => (await sql<{ n: number }>(databaseUrl(), mine))[0]?.n === 0,
      5000,
      'connections to end',
    )
  })
})

describe('reading pages', () => {
  it('a page read as one JSON text gives the events exactly as the row-by-row stream read does', async () => {
    const store = await open({ schema: freshSchema() })
    const odd = [
      'quote " backslash \\ slash /',
      'line\nbreak\ttab\r',
      'unicode é 漢字 🎉 \u2028\u2029',
      'control \u0001\u001f',
      '',
    ]
    for (const [i, text] of odd.entries()) {
      await store.append(`stream ${text}`, [
        {
          type: i % 2 === 0 ? `Type ${text}` : 'Plain',
          data: { text, nested: { list: [1, -2.5, 1e21, null, true, text] }, big: 2 ** 53 - 1 },
          ...(i % 3 === 0 ? {} : { metadata: { by: text, at: i } }),
        },
      ])
    }
    await store.append('scalars', [
      { type: 'Plain', data: 'a bare string' },
      { type: 'Plain', data: 0 },
      { type: 'Plain', data: [] },
    ])
    const all = await store.readAll({ after: 0, limit: 100 })
    expect(all.map((event) => event.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    const streamRead = []
    for (const event of all) {
      const [same] = (await store.readStream(event.streamId)).filter((e) => e.position === event.position)
      streamRead.push(same)
    }
    expect(all).toEqual(streamRead)
    for (const event of all) expect(event.recordedAt).toBeInstanceOf(Date)
    expect(all[0]?.data).toEqual({
      text: odd[0],
      nested: { list: [1, -2.5, 1e21, null, true, odd[0]] },
      big: 2 ** 53 - 1,
    })
    expect('metadata' in (all[0] as object)).toBe(false)
    expect(all[1]?.metadata).toEqual({ by: odd[1], at: 1 })
    // the type-filtered pages (one type, several types) are the same events
    expect(await store.readAll({ after: 0, limit: 100, types: ['Plain'] })).toEqual(
      all.filter((event) => event.type === 'Plain'),
    )
    const twoTypes = [`Type ${odd[0]}`, `Type ${odd[4]}`]
    expect(await store.readAll({ after: 0, limit: 100, types: twoTypes })).toEqual(
      all.filter((event) => twoTypes.includes(event.type)),
    )
    expect(await store.readAll({ after: 2, limit: 3 })).toEqual(all.slice(2, 5))
    expect(await store.readAll({ after: 8, limit: 10 })).toEqual([])
  })

  it('a page above the text limit is read row by row: the same events, and a head read before them', async () => {
    const schema = freshSchema()
    const store = await open({ schema })
    for (let i = 1; i <= 6; i++) {
      await store.append(`s${i % 2}`, [
        { type: i % 2 === 0 ? 'B' : 'A', data: { text: 'x'.repeat(40), i }, metadata: { i } },
      ])
    }
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 })
    try {
      // the page query answers no text above the limit (the rows are then read one by one)
      const page = (limit: number) =>
        pool.query({
          text: readQueries(quoteIdentifier(schema), limit).all,
          values: [0, 100],
          rowMode: 'array',
        })
      expect((await page(100)).rows[0]?.[1]).toBeNull()
      expect(typeof (await page(1_000_000)).rows[0]?.[1]).toBe('string')
      const byRows = createLogReads(createConnections(pool, 5000, createRedactor([])), schema, 100)
      for (const options of [
        { after: 0, limit: 100 },
        { after: 1, limit: 3 },
        { after: 0, limit: 100, types: ['A'] },
        { after: 0, limit: 100, types: ['A', 'B'] },
        { after: 6, limit: 10 },
      ]) {
        const expected = await store.readPage?.(options)
        expect(await byRows.readPage(options)).toEqual(expected)
        expect(await byRows.readAll(options)).toEqual(expected?.events)
      }
    } finally {
      await pool.end()
    }
  })
})

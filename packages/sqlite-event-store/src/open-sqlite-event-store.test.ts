import fs from 'node:fs'
import path from 'node:path'
import { type EventStore, isEskitError, type NewEvent, type StoredEvent } from '@eskit/core'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { dumpLog, recordingLogger, rejection, snapshotDir, useTempDirs } from '../test/helpers.js'
import { openSqliteEventStore } from './open-sqlite-event-store.js'
import { APPLICATION_ID, SCHEMA_VERSION } from './schema.js'

const tempDir = useTempDirs()
const opened: EventStore[] = []
const databases: Database.Database[] = []

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close()
  for (const db of databases.splice(0)) if (db.open) db.close()
})

function open(file: string, options: { logger?: ReturnType<typeof recordingLogger> } = {}): EventStore {
  const store = openSqliteEventStore({ path: file, ...options })
  opened.push(store)
  return store
}

function raw(file: string, options?: Database.Options): Database.Database {
  const db = new Database(file, options)
  databases.push(db)
  return db
}

function ev(type: string, n: number, metadata?: Record<string, unknown>): NewEvent {
  return metadata === undefined ? { type, data: { n } } : { type, data: { n }, metadata }
}

describe('creating and reopening a log', () => {
  it('creates the file, its parent directories and the schema, in WAL mode with an application id', async () => {
    const file = path.join(tempDir(), 'nested', 'deeper', 'events.db')
    const store = open(file)
    expect(fs.existsSync(file)).toBe(true)
    const db = raw(file, { readonly: true })
    const objects = db
      .prepare(
        "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      )
      .all()
    expect(objects).toEqual([
      { type: 'table', name: 'eskit_event_log' },
      { type: 'table', name: 'eskit_event_log_schema' },
      { type: 'table', name: 'events' },
      { type: 'index', name: 'events_stream_version' },
      { type: 'index', name: 'events_type_position' },
    ])
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID)
    const dump = dumpLog(file)
    expect(dump.schema).toEqual([{ version: SCHEMA_VERSION, applied_at: expect.any(Number) }])
    expect(dump.meta).toEqual([
      { key: 'created_at', value: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      { key: 'id', value: store.id },
    ])
    expect(store.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  })

  it('keeps the id and the events across reopening, and gives a new file a new id', async () => {
    const dir = tempDir()
    const first = openSqliteEventStore({ path: path.join(dir, 'events.db') })
    await first.append('a', [ev('T', 1), ev('T', 2)])
    const { id } = first
    await first.close()
    const again = open(path.join(dir, 'events.db'))
    expect(again.id).toBe(id)
    expect((await again.readAll({ after: 0, limit: 10 })).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }])
    expect(open(path.join(dir, 'other.db')).id).not.toBe(id)
  })

  it('logs the creation of a log through the injected logger only', async () => {
    const logger = recordingLogger()
    const file = path.join(tempDir(), 'events.db')
    open(file, { logger })
    expect(logger.lines).toEqual([
      { level: 'info', message: 'created event log', fields: { location: file } },
    ])
    const again = recordingLogger()
    open(file, { logger: again })
    expect(again.lines).toEqual([])
  })

  it('turns an empty (0-byte) file into a log', async () => {
    const file = path.join(tempDir(), 'events.db')
    fs.writeFileSync(file, '')
    const store = open(file)
    expect(await store.append('a', [ev('T', 1)])).toEqual({ position: 1, streamVersion: 1 })
  })

  it('works in memory with path ":memory:"', async () => {
    const store = open(':memory:')
    await store.append('a', [ev('T', 1)])
    expect(await store.head()).toBe(1)
  })

  it('stores recordedAt as epoch milliseconds and returns it as a Date', async () => {
    const file = path.join(tempDir(), 'events.db')
    const store = open(file)
    const before = Date.now()
    await store.append('a', [ev('T', 1), ev('T', 2)])
    const after = Date.now()
    const [first, second] = await store.readAll({ after: 0, limit: 10 })
    expect(first?.recordedAt).toBeInstanceOf(Date)
    expect(first?.recordedAt.getTime()).toBeGreaterThanOrEqual(before)
    expect(first?.recordedAt.getTime()).toBeLessThanOrEqual(after)
    // one append, one instant
    expect(second?.recordedAt.getTime()).toBe(first?.recordedAt.getTime())
    expect(dumpLog(file).events[0]).toMatchObject({ recorded_at: first?.recordedAt.getTime() })
  })
})

describe('append', () => {
  it('writes type, data and metadata as JSON text and returns the last position and version', async () => {
    const file = path.join(tempDir(), 'events.db')
    const store = open(file)
    expect(await store.append('pass-1', [ev('Issued', 1, { by: 'ada' }), ev('Scanned', 2)])).toEqual({
      position: 2,
      streamVersion: 2,
    })
    expect(dumpLog(file).events).toEqual([
      {
        position: 1,
        stream_id: 'pass-1',
        stream_version: 1,
        type: 'Issued',
        data: '{"n":1}',
        metadata: '{"by":"ada"}',
        recorded_at: expect.any(Number),
      },
      {
        position: 2,
        stream_id: 'pass-1',
        stream_version: 2,
        type: 'Scanned',
        data: '{"n":2}',
        metadata: null,
        recorded_at: expect.any(Number),
      },
    ])
  })

  it('sees versions and events written by another connection to the same file (no cached head)', async () => {
    const file = path.join(tempDir(), 'events.db')
    const one = open(file)
    const two = open(file)
    expect(two.id).toBe(one.id)
    await one.append('a', [ev('T', 1)])
    expect(await two.head()).toBe(1)
    const error = await rejection(two.append('a', [ev('T', 2)], { expectedVersion: 'no-stream' }))
    expect(isEskitError(error, 'CONCURRENCY')).toBe(true)
    expect(error.details).toEqual({ streamId: 'a', expected: 'no-stream', actual: 1 })
    await two.append('a', [ev('T', 2)], { expectedVersion: 1 })
    expect(await one.head()).toBe(2)
    expect((await one.readStream('a')).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }])
  })

  it('appends a large batch in one transaction with consecutive positions', async () => {
    const store = open(path.join(tempDir(), 'events.db'))
    await store.append('x', [ev('T', 0)])
    const batch = Array.from({ length: 5000 }, (_, i) => ev(i % 2 ? 'A' : 'B', i))
    expect(await store.append('big', batch, { expectedVersion: 'no-stream' })).toEqual({
      position: 5001,
      streamVersion: 5000,
    })
    const stream = await store.readStream('big')
    expect(stream.map((e) => e.position)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 2))
  })
})

describe('readAll', () => {
  // Dense stretches (most events match) and sparse stretches (few match) longer than the scan
  // window, so that both the position scan and the index path of a filtered read are used.
  async function mixedLog(store: EventStore): Promise<StoredEvent[]> {
    let n = 0
    const append = async (type: string, count: number) => {
      const batch = Array.from({ length: count }, () => ev(type, ++n))
      await store.append(`s-${n % 7}`, batch)
    }
    await append('Common', 300)
    await append('Rare', 1)
    await append('Other', 900)
    await append('Rare', 2)
    for (let i = 0; i < 40; i++) {
      await append(i % 3 === 0 ? 'Rare' : 'Common', 5)
      await append('Other', 7)
    }
    await append('Common', 50)
    return store.readAll({ after: 0, limit: 1_000_000 })
  }

  it('filters by type in any mix of dense and sparse stretches exactly like a filter over everything', async () => {
    const store = open(path.join(tempDir(), 'events.db'))
    const everything = await mixedLog(store)
    expect(everything.map((e) => e.position)).toEqual(
      Array.from({ length: everything.length }, (_, i) => i + 1),
    )
    const typeLists = [
      ['Rare'],
      ['Common'],
      ['Other'],
      ['Rare', 'Common'],
      ['Common', 'Other', 'Rare'],
      ['Nope'],
    ]
    for (const types of typeLists) {
      const expected = everything.filter((e) => types.includes(e.type))
      for (const limit of [1, 3, 50, 400, 5000]) {
        for (const start of [0, 299, 301, 1203, 1500]) {
          const got: StoredEvent[] = []
          let after = start
          for (;;) {
            const page = await store.readAll({ after, limit, types })
            expect(page.length).toBeLessThanOrEqual(limit)
            if (page.length === 0) break
            got.push(...page)
            after = (page[page.length - 1] as StoredEvent).position
          }
          expect(got.map((e) => e.position)).toEqual(
            expected.filter((e) => e.position > start).map((e) => e.position),
          )
        }
      }
    }
  }, 30_000)

  it('returns [] for an empty types list and for after at or beyond the head', async () => {
    const store = open(path.join(tempDir(), 'events.db'))
    await store.append('a', [ev('T', 1), ev('T', 2)])
    expect(await store.readAll({ after: 0, limit: 10, types: [] })).toEqual([])
    expect(await store.readAll({ after: 2, limit: 10 })).toEqual([])
    expect(await store.readAll({ after: 2, limit: 10, types: ['T'] })).toEqual([])
    expect(await store.readAll({ after: Number.MAX_SAFE_INTEGER - 1, limit: 10, types: ['T'] })).toEqual([])
  })

  it('finds events another connection committed inside the scan window', async () => {
    const file = path.join(tempDir(), 'events.db')
    const reader = open(file)
    const writer = open(file)
    await writer.append('a', [ev('Other', 1), ev('Wanted', 2)])
    expect((await reader.readAll({ after: 0, limit: 5, types: ['Wanted'] })).map((e) => e.position)).toEqual([
      2,
    ])
    await writer.append('a', [ev('Wanted', 3), ev('Other', 4), ev('Wanted', 5)])
    expect((await reader.readAll({ after: 2, limit: 5, types: ['Wanted'] })).map((e) => e.position)).toEqual([
      3, 5,
    ])
  })

  it('reads metadata back only where it was given', async () => {
    const store = open(path.join(tempDir(), 'events.db'))
    await store.append('a', [ev('T', 1, { trace: 'x' }), ev('T', 2)])
    const [withMeta, without] = await store.readAll({ after: 0, limit: 10 })
    expect(withMeta?.metadata).toEqual({ trace: 'x' })
    expect(without).not.toHaveProperty('metadata')
  })
})

describe('onAppend', () => {
  it('is called after commit: a listener reading the file through another connection sees the events', async () => {
    const file = path.join(tempDir(), 'events.db')
    const store = open(file)
    const seen: Array<{ head: number; rows: number }> = []
    store.onAppend((head) => {
      const rows = dumpLog(file).events.length
      seen.push({ head, rows })
    })
    await store.append('a', [ev('T', 1), ev('T', 2)])
    await store.append('b', [ev('T', 3)])
    expect(seen).toEqual([
      { head: 2, rows: 2 },
      { head: 3, rows: 3 },
    ])
  })

  it('logs a throwing or rejecting listener and still calls the others', async () => {
    const logger = recordingLogger()
    const store = open(path.join(tempDir(), 'events.db'), { logger })
    const heads: number[] = []
    store.onAppend(() => {
      throw new Error('boom')
    })
    store.onAppend((async () => {
      throw new Error('async boom')
    }) as () => void)
    store.onAppend((head) => heads.push(head))
    expect(await store.append('a', [ev('T', 1)])).toEqual({ position: 1, streamVersion: 1 })
    await new Promise((resolve) => setImmediate(resolve))
    expect(heads).toEqual([1])
    const errors = logger.lines.filter((line) => line.level === 'error')
    expect(errors).toEqual([
      { level: 'error', message: 'onAppend listener threw', fields: { error: 'boom', head: 1 } },
      { level: 'error', message: 'onAppend listener threw', fields: { error: 'async boom', head: 1 } },
    ])
  })

  it('subscribes the same function twice and each unsubscribe removes one', async () => {
    const store = open(path.join(tempDir(), 'events.db'))
    const heads: number[] = []
    const listener = (head: number) => heads.push(head)
    const off1 = store.onAppend(listener)
    const off2 = store.onAppend(listener)
    await store.append('a', [ev('T', 1)])
    off1()
    await store.append('a', [ev('T', 2)])
    off2()
    off2()
    await store.append('a', [ev('T', 3)])
    expect(heads).toEqual([1, 1, 2])
  })

  it('is not called for appends of another connection (they are found by reading the head)', async () => {
    const file = path.join(tempDir(), 'events.db')
    const one = open(file)
    const two = open(file)
    const heads: number[] = []
    one.onAppend((head) => heads.push(head))
    await two.append('a', [ev('T', 1)])
    expect(heads).toEqual([])
    expect(await one.head()).toBe(1)
  })
})

describe('{ database }', () => {
  it('creates the log beside the application tables, leaves pragmas and does not close the database', async () => {
    const file = path.join(tempDir(), 'app.db')
    const db = raw(file)
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')")
    const store = openSqliteEventStore({ database: db })
    await store.append('a', [ev('T', 1)])
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete')
    expect(db.pragma('application_id', { simple: true })).toBe(0)
    await store.close()
    expect(db.open).toBe(true)
    expect(db.prepare('SELECT name FROM users').pluck().all()).toEqual(['ada'])
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1)
    // the same log opens again by path, with the same id
    const byPath = open(file)
    expect(byPath.id).toBe(store.id)
    expect(await byPath.head()).toBe(1)
  })

  it('works on an in-memory database', async () => {
    const db = raw(':memory:')
    const store = openSqliteEventStore({ database: db })
    opened.push(store)
    await store.append('a', [ev('T', 1)], { expectedVersion: 'no-stream' })
    expect((await store.readStream('a')).length).toBe(1)
  })

  it('answers CLOSED once the application closed its database', async () => {
    const db = raw(':memory:')
    const store = openSqliteEventStore({ database: db })
    db.close()
    expect(isEskitError(await rejection(store.head()), 'CLOSED')).toBe(true)
    expect(isEskitError(await rejection(store.append('a', [ev('T', 1)])), 'CLOSED')).toBe(true)
    await store.close()
    expect(() => openSqliteEventStore({ database: db })).toThrow(expect.objectContaining({ code: 'CLOSED' }))
  })

  it('refuses to append inside an open transaction of the database (INVALID_STATE), writing nothing', async () => {
    const db = raw(':memory:')
    const store = openSqliteEventStore({ database: db })
    opened.push(store)
    const heads: number[] = []
    store.onAppend((head) => heads.push(head))
    db.exec('BEGIN')
    const error = await rejection(store.append('a', [ev('T', 1)]))
    db.exec('ROLLBACK')
    expect(isEskitError(error, 'INVALID_STATE')).toBe(true)
    expect(await store.head()).toBe(0)
    expect(heads).toEqual([])
  })

  it('refuses to open inside an open transaction of the database (INVALID_STATE), creating nothing', () => {
    const db = raw(':memory:')
    db.exec('BEGIN')
    expect(() => openSqliteEventStore({ database: db })).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    )
    db.exec('ROLLBACK')
    expect(db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get()).toBe(0)
  })

  it('returns numbers even when the database defaults to BigInt integers', async () => {
    const db = raw(':memory:')
    db.defaultSafeIntegers(true)
    const store = openSqliteEventStore({ database: db })
    opened.push(store)
    expect(await store.append('a', [ev('T', 1), ev('T', 2)])).toEqual({ position: 2, streamVersion: 2 })
    expect(await store.head()).toBe(2)
    const [first] = await store.readAll({ after: 0, limit: 1, types: ['T'] })
    expect(first?.position).toBe(1)
    expect(first?.streamVersion).toBe(1)
  })

  it('refuses a read-only database that holds no log yet with READ_ONLY, creating nothing', async () => {
    const file = path.join(tempDir(), 'app.db')
    raw(file).exec('CREATE TABLE users (id INTEGER PRIMARY KEY)')
    const db = raw(file, { readonly: true })
    const error = await rejection(() => openSqliteEventStore({ database: db }))
    expect(isEskitError(error, 'READ_ONLY')).toBe(true)
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()).toEqual(['users'])
  })

  it('reads a log through a read-only database and refuses appends with READ_ONLY', async () => {
    const file = path.join(tempDir(), 'events.db')
    const writer = openSqliteEventStore({ path: file })
    await writer.append('a', [ev('T', 1)])
    await writer.close()
    const before = dumpLog(file)
    const store = openSqliteEventStore({ database: raw(file, { readonly: true }) })
    opened.push(store)
    expect((await store.readAll({ after: 0, limit: 10 })).map((e) => e.data)).toEqual([{ n: 1 }])
    const error = await rejection(store.append('a', [ev('T', 2)]))
    expect(isEskitError(error, 'READ_ONLY')).toBe(true)
    expect(dumpLog(file)).toEqual(before)
  })
})

describe('{ path, readonly: true }', () => {
  it('reads a log, also while another connection appends, and refuses appends with READ_ONLY', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'events.db')
    const writer = open(file)
    await writer.append('a', [ev('T', 1)])
    const reader = openSqliteEventStore({ path: file, readonly: true })
    opened.push(reader)
    expect(reader.id).toBe(writer.id)
    await writer.append('a', [ev('T', 2)])
    expect(await reader.head()).toBe(2)
    expect((await reader.readAll({ after: 0, limit: 10, types: ['T'] })).map((e) => e.data)).toEqual([
      { n: 1 },
      { n: 2 },
    ])
    const before = dumpLog(file)
    const error = await rejection(reader.append('a', [ev('T', 3)]))
    expect(isEskitError(error, 'READ_ONLY')).toBe(true)
    expect(dumpLog(file)).toEqual(before)
  })

  it('opens a closed log without writing to it (only SQLite side files may appear)', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'events.db')
    const writer = openSqliteEventStore({ path: file })
    await writer.append('a', [ev('T', 1)])
    await writer.close()
    const before = snapshotDir(dir)
    const reader = openSqliteEventStore({ path: file, readonly: true })
    expect(await reader.head()).toBe(1)
    await reader.close()
    const after = snapshotDir(dir)
    expect(after['events.db']).toBe(before['events.db'])
    // WAL mode needs its shared-memory index even to read; the -wal file stays empty
    expect(
      Object.keys(after).filter((name) => !['events.db', 'events.db-wal', 'events.db-shm'].includes(name)),
    ).toEqual([])
    if (after['events.db-wal'] !== undefined) expect(after['events.db-wal']).toMatch(/^0:/)
  })

  it('refuses a missing file with NOT_FOUND and an empty one with READ_ONLY, creating nothing', () => {
    const dir = tempDir()
    const missing = path.join(dir, 'nested', 'events.db')
    expect(() => openSqliteEventStore({ path: missing, readonly: true })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    )
    expect(fs.readdirSync(dir)).toEqual([])
    const empty = path.join(dir, 'empty.db')
    fs.writeFileSync(empty, '')
    expect(() => openSqliteEventStore({ path: empty, readonly: true })).toThrow(
      expect.objectContaining({ code: 'READ_ONLY', message: expect.stringMatching(/holds no event log/) }),
    )
    expect(snapshotDir(dir)).toEqual({ 'empty.db': expect.stringMatching(/^0:/) })
  })

  it('refuses readonly in memory and a non-boolean readonly with INVALID_ARGUMENT', () => {
    expect(() => openSqliteEventStore({ path: ':memory:', readonly: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
    expect(() =>
      openSqliteEventStore({ path: path.join(tempDir(), 'x.db'), readonly: 'yes' as never }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })
})

import fs from 'node:fs'
import path from 'node:path'
import { type EventStore, isEskitError, type NewEvent } from '@eskit/core'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { dumpLog, rejection, snapshotDir, useTempDirs } from '../test/helpers.js'
import { openSqliteEventStore } from './open-sqlite-event-store.js'

// Every bad input is refused with its code, and the file holds exactly what it held before.

const tempDir = useTempDirs()
const opened: EventStore[] = []
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close()
})

function ev(type: string, n: number): NewEvent {
  return { type, data: { n } }
}

/** A log with a few events, open, and the path of its file. */
async function seededLog(): Promise<{ store: EventStore; file: string }> {
  const file = path.join(tempDir(), 'events.db')
  const store = openSqliteEventStore({ path: file })
  opened.push(store)
  await store.append('a', [ev('T', 1), ev('T', 2)])
  await store.append('b', [ev('U', 3)], { expectedVersion: 'no-stream' })
  return { store, file }
}

function cyclic(): unknown {
  const value: Record<string, unknown> = {}
  value.self = value
  return value
}

describe('bad events and arguments on an open log', () => {
  const invalidEvents: Array<[string, unknown]> = [
    ['not an array', { type: 'T', data: 1 }],
    ['an empty array', []],
    ['null in the array', [null]],
    ['an empty type', [{ type: '', data: 1 }]],
    ['a type of 257 characters', [{ type: 'x'.repeat(257), data: 1 }]],
    ['a numeric type', [{ type: 7, data: 1 }]],
    ['undefined data', [{ type: 'T' }]],
    ['a function in data', [{ type: 'T', data: { f: () => 1 } }]],
    ['a symbol in data', [{ type: 'T', data: { s: Symbol('x') } }]],
    ['a BigInt in data', [{ type: 'T', data: 10n }]],
    ['Infinity in data', [{ type: 'T', data: [Number.POSITIVE_INFINITY] }]],
    ['a circular structure', [{ type: 'T', data: cyclic() }]],
    ['a class instance in data', [{ type: 'T', data: new Map([[1, 2]]) }]],
    ['array metadata', [{ type: 'T', data: 1, metadata: [1] }]],
    ['a valid event followed by an invalid one', [ev('T', 9), { type: 'T', data: { n: Number.NaN } }]],
  ]
  for (const [what, events] of invalidEvents) {
    it(`refuses ${what} with INVALID_EVENT, writing nothing`, async () => {
      const { store, file } = await seededLog()
      const before = dumpLog(file)
      const heads: number[] = []
      store.onAppend((head) => heads.push(head))
      const error = await rejection(store.append('a', events as NewEvent[]))
      expect(isEskitError(error, 'INVALID_EVENT')).toBe(true)
      expect(dumpLog(file)).toEqual(before)
      expect(heads).toEqual([])
      // the next good append takes the next position: nothing was reserved
      expect(await store.append('a', [ev('T', 4)])).toEqual({ position: 4, streamVersion: 3 })
    })
  }

  const invalidStreamIds: Array<[string, unknown]> = [
    ['an empty stream id', ''],
    ['a stream id of 1025 characters', 's'.repeat(1025)],
    ['a numeric stream id', 12],
    ['an undefined stream id', undefined],
  ]
  for (const [what, streamId] of invalidStreamIds) {
    it(`refuses ${what} with INVALID_EVENT in append and readStream, writing nothing`, async () => {
      const { store, file } = await seededLog()
      const before = dumpLog(file)
      const appendError = await rejection(store.append(streamId as string, [ev('T', 1)]))
      expect(isEskitError(appendError, 'INVALID_EVENT')).toBe(true)
      const readError = await rejection(store.readStream(streamId as string))
      expect(isEskitError(readError, 'INVALID_EVENT')).toBe(true)
      expect(dumpLog(file)).toEqual(before)
    })
  }

  it('refuses a stale expectedVersion with CONCURRENCY carrying both versions, writing nothing', async () => {
    const { store, file } = await seededLog()
    const before = dumpLog(file)
    const heads: number[] = []
    store.onAppend((head) => heads.push(head))
    for (const expectedVersion of [0, 1, 3, 'no-stream'] as const) {
      const error = await rejection(store.append('a', [ev('T', 4), ev('T', 5)], { expectedVersion }))
      expect(isEskitError(error, 'CONCURRENCY')).toBe(true)
      expect(error.details).toEqual({ streamId: 'a', expected: expectedVersion, actual: 2 })
    }
    expect(dumpLog(file)).toEqual(before)
    expect(heads).toEqual([])
  })

  it('refuses a malformed expectedVersion with INVALID_ARGUMENT, writing nothing', async () => {
    const { store, file } = await seededLog()
    const before = dumpLog(file)
    for (const expectedVersion of [-1, 1.5, '2', Number.NaN, 'latest', {}]) {
      const error = await rejection(
        store.append('a', [ev('T', 4)], { expectedVersion: expectedVersion as unknown as number }),
      )
      expect(isEskitError(error, 'INVALID_ARGUMENT')).toBe(true)
    }
    expect(dumpLog(file)).toEqual(before)
  })

  it('refuses malformed readAll options with INVALID_ARGUMENT', async () => {
    const { store } = await seededLog()
    const bad = [
      undefined,
      {},
      { after: -1, limit: 10 },
      { after: 0.5, limit: 10 },
      { after: 0, limit: 0 },
      { after: 0, limit: Number.POSITIVE_INFINITY },
      { after: '0', limit: 10 },
      { after: 0, limit: 10, types: 'T' },
      { after: 0, limit: 10, types: [1] },
    ]
    for (const options of bad) {
      const error = await rejection(store.readAll(options as never))
      expect(isEskitError(error, 'INVALID_ARGUMENT')).toBe(true)
    }
  })

  it('refuses a listener that is not a function with INVALID_ARGUMENT', async () => {
    const { store } = await seededLog()
    expect(() => store.onAppend('nope' as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})

describe('calls after close', () => {
  it('refuses every call with CLOSED, keeps the file as it was, and close stays idempotent', async () => {
    const { store, file } = await seededLog()
    await store.close()
    const before = dumpLog(file)
    const calls: Array<() => unknown> = [
      () => store.append('a', [ev('T', 9)]),
      () => store.readAll({ after: 0, limit: 10 }),
      () => store.readStream('a'),
      () => store.head(),
      () => store.onAppend(() => {}),
    ]
    for (const call of calls) {
      const error = await rejection(call)
      expect(isEskitError(error, 'CLOSED')).toBe(true)
    }
    await store.close()
    expect(dumpLog(file)).toEqual(before)
  })

  it('closes the file: no WAL files are left once the only connection is closed', async () => {
    const { store, file } = await seededLog()
    await store.close()
    expect(fs.readdirSync(path.dirname(file))).toEqual(['events.db'])
  })
})

describe('files that are not an eskit event log', () => {
  /** Opens `file` and expects `code`, with every file in the directory byte-for-byte unchanged. */
  function expectRefused(file: string, code: string, message: RegExp): void {
    const dir = path.dirname(file)
    const before = snapshotDir(dir)
    let error: unknown
    try {
      opened.push(openSqliteEventStore({ path: file }))
    } catch (caught) {
      error = caught
    }
    expect(isEskitError(error)).toBe(true)
    expect(error).toMatchObject({ code, message: expect.stringMatching(message) })
    expect(snapshotDir(dir)).toEqual(before)
  }

  it('refuses a text file (CORRUPT)', () => {
    const file = path.join(tempDir(), 'events.db')
    fs.writeFileSync(file, 'these are my notes, not a database\n'.repeat(40))
    expectRefused(file, 'CORRUPT', /not a readable eskit event log/)
  })

  it('refuses a short binary file (CORRUPT)', () => {
    const file = path.join(tempDir(), 'events.db')
    fs.writeFileSync(file, Buffer.from([1, 2, 3, 4, 5]))
    expectRefused(file, 'CORRUPT', /not a readable eskit event log/)
  })

  it("refuses another application's SQLite database with tables (CORRUPT)", () => {
    const file = path.join(tempDir(), 'events.db')
    const db = new Database(file)
    db.exec(
      'CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL); INSERT INTO orders (total) VALUES (9.5)',
    )
    db.close()
    expectRefused(file, 'CORRUPT', /not an eskit event log: it holds other tables \(orders\)/)
  })

  it('refuses a SQLite database with an events table that is not eskit (CORRUPT)', () => {
    const file = path.join(tempDir(), 'events.db')
    const db = new Database(file)
    db.exec("CREATE TABLE events (id INTEGER PRIMARY KEY, what TEXT); INSERT INTO events (what) VALUES ('x')")
    db.close()
    expectRefused(file, 'CORRUPT', /not an eskit event log/)
  })

  it('refuses an empty SQLite database of another application (application_id) (CORRUPT)', () => {
    const file = path.join(tempDir(), 'events.db')
    const db = new Database(file)
    db.pragma('application_id = 1234')
    db.close()
    expectRefused(file, 'CORRUPT', /another application \(application_id 1234\)/)
  })

  it('refuses a log of a newer schema version (CORRUPT), never migrating it down', async () => {
    const { store, file } = await seededLog()
    await store.close()
    const db = new Database(file)
    db.prepare('INSERT INTO eskit_event_log_schema (version, applied_at) VALUES (99, 0)').run()
    db.close()
    expectRefused(file, 'CORRUPT', /schema version 99, newer than this release/)
  })

  it('refuses a log missing its schema table (CORRUPT)', async () => {
    const { store, file } = await seededLog()
    await store.close()
    const db = new Database(file)
    db.exec('DROP TABLE eskit_event_log_schema')
    db.close()
    expectRefused(file, 'CORRUPT', /part of an eskit event log schema/)
  })

  it('refuses a log without an id (CORRUPT)', async () => {
    const { store, file } = await seededLog()
    await store.close()
    const db = new Database(file)
    db.exec("DELETE FROM eskit_event_log WHERE key = 'id'")
    db.close()
    expectRefused(file, 'CORRUPT', /has no id/)
  })

  it('refuses a log whose events table has other columns (CORRUPT)', async () => {
    const { store, file } = await seededLog()
    await store.close()
    const db = new Database(file)
    db.exec('ALTER TABLE events ADD COLUMN extra TEXT')
    db.close()
    expectRefused(file, 'CORRUPT', /unexpected columns/)
  })

  it('refuses a truncated log (CORRUPT)', async () => {
    const { store, file } = await seededLog()
    for (let i = 0; i < 40; i++) await store.append(`s${i}`, [{ type: 'Pad', data: 'x'.repeat(3000) }])
    await store.close()
    const content = fs.readFileSync(file)
    fs.writeFileSync(file, content.subarray(0, 4096 * 3 + 100))
    expectRefused(file, 'CORRUPT', /not a readable eskit event log/)
  })

  it('answers CORRUPT for a log damaged inside, on read and on append, writing nothing', async () => {
    const { store, file } = await seededLog()
    for (let i = 0; i < 60; i++) await store.append(`s${i}`, [{ type: 'Pad', data: 'x'.repeat(3000) }])
    await store.close()
    const content = fs.readFileSync(file)
    // keep the header and schema pages, scramble the pages of events
    for (let i = 4096 * 5; i < content.length - 4096; i++) content[i] = (i * 31) & 0xff
    fs.writeFileSync(file, content)
    const dir = path.dirname(file)
    const before = snapshotDir(dir)
    const damaged = openSqliteEventStore({ path: file })
    const readError = await rejection(async () => {
      let after = 0
      for (;;) {
        const page = await damaged.readAll({ after, limit: 10 })
        if (page.length === 0) break
        after = page[page.length - 1]?.position ?? after
      }
    })
    expect(isEskitError(readError, 'CORRUPT')).toBe(true)
    const appendError = await rejection(damaged.append('s59', [ev('T', 1)], { expectedVersion: 1 }))
    expect(isEskitError(appendError, 'CORRUPT')).toBe(true)
    await damaged.close()
    expect(snapshotDir(dir)).toEqual(before)
  })

  it('answers CORRUPT naming the position when an event holds text that is not JSON', async () => {
    const { store, file } = await seededLog()
    const db = new Database(file)
    db.prepare("UPDATE events SET data = '{broken' WHERE position = 2").run()
    db.close()
    const error = await rejection(store.readAll({ after: 0, limit: 10 }))
    expect(isEskitError(error, 'CORRUPT')).toBe(true)
    expect(error.details).toEqual({ position: 2 })
    expect(error.message).toMatch(/position 2/)
    expect((await store.readAll({ after: 2, limit: 10 })).map((e) => e.position)).toEqual([3])
  })
})

describe('bad options', () => {
  it('refuses a directory as the path (INVALID_ARGUMENT), creating nothing in it', () => {
    const dir = tempDir()
    const error = (() => {
      try {
        openSqliteEventStore({ path: dir })
      } catch (caught) {
        return caught
      }
    })()
    expect(isEskitError(error, 'INVALID_ARGUMENT')).toBe(true)
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it('refuses malformed options with INVALID_ARGUMENT', () => {
    const file = path.join(tempDir(), 'events.db')
    const bad: unknown[] = [
      undefined,
      null,
      'events.db',
      {},
      { path: '' },
      { path: 42 },
      { path: file, synchronous: 'OFF' },
      { path: file, busyTimeoutMs: -1 },
      { database: {} },
      { database: new Database(':memory:'), path: file },
    ]
    for (const options of bad) {
      expect(() => openSqliteEventStore(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      )
    }
    expect(fs.existsSync(file)).toBe(false)
  })

  it('refuses a path below a file (the parent is not a directory), creating nothing', () => {
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, 'plain'), 'x')
    const before = snapshotDir(dir)
    const error = (() => {
      try {
        openSqliteEventStore({ path: path.join(dir, 'plain', 'events.db') })
      } catch (caught) {
        return caught
      }
    })()
    expect(isEskitError(error)).toBe(true)
    expect(snapshotDir(dir)).toEqual(before)
  })
})

describe('another writer holding the lock', () => {
  it('gives up after busyTimeoutMs with BUSY, writing nothing', async () => {
    const file = path.join(tempDir(), 'events.db')
    const store = openSqliteEventStore({ path: file, busyTimeoutMs: 20 })
    opened.push(store)
    await store.append('a', [ev('T', 1)])
    const before = dumpLog(file)
    const other = new Database(file)
    try {
      other.exec('BEGIN IMMEDIATE')
      const error = await rejection(store.append('a', [ev('T', 2)]))
      expect(isEskitError(error, 'BUSY')).toBe(true)
      // reads are not blocked by the writer (WAL)
      expect(await store.head()).toBe(1)
      other.exec('ROLLBACK')
    } finally {
      other.close()
    }
    expect(dumpLog(file)).toEqual(before)
    expect(await store.append('a', [ev('T', 2)], { expectedVersion: 1 })).toEqual({
      position: 2,
      streamVersion: 2,
    })
  })
})

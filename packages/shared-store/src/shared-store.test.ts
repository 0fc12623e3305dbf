import path from 'node:path'
import {
  EskitError,
  type Projection,
  type ProjectionSlot,
  type ProjectionStore,
  silentLogger,
} from '@eskit/core'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { event, passEvents, passProjection, tempDir } from '../test/helpers.js'
import { sharedStore } from './shared-store.js'

type Db = Database.Database
const context = { logId: 'log-1', logger: silentLogger }

let dir: string
let cleanup: () => void
const toClose: Array<{ close(): unknown }> = []

beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(async () => {
  for (const item of toClose.splice(0).reverse()) await item.close()
  cleanup()
})

async function openStore(file = path.join(dir, 'app.db'), extra: { guardWrites?: boolean } = {}) {
  const store = sharedStore({ path: file, ...extra })
  toClose.push(store)
  await store.open(context)
  return store
}

async function ready(store: ProjectionStore<Db>, projection: Projection<Db>): Promise<ProjectionSlot> {
  const slot = await store.openSlot(projection)
  await slot.initialize({ version: projection.version, logId: 'log-1' })
  return slot
}

function rows(db: Db, table: string): unknown[] {
  return db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all()
}

async function rejection(promise: Promise<unknown>): Promise<EskitError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(EskitError)
  return error as EskitError
}

describe('sharedStore: batches', () => {
  it('commits a batch and its checkpoint together and serves it through the reader', async () => {
    const store = await openStore()
    const slot = await ready(store, passProjection('passes.view'))
    expect(await slot.state()).toMatchObject({ position: 0, version: '1', logId: 'log-1' })
    const events = passEvents(3, 2)
    await slot.commit({ from: 0, to: 9, events })
    expect((await slot.state())?.position).toBe(9)
    const reader = store.reader('passes.view')
    expect(reader.readonly).toBe(true)
    expect(reader.prepare('SELECT id, scans, last_at FROM passes ORDER BY id').all()).toEqual([
      { id: 'p0', scans: 2, last_at: 7 },
      { id: 'p1', scans: 2, last_at: 8 },
      { id: 'p2', scans: 2, last_at: 9 },
    ])
    expect(() => reader.exec('DELETE FROM passes')).toThrow(/readonly/)
  })

  it('refuses a batch whose from is not the stored checkpoint, writing nothing', async () => {
    const store = await openStore()
    const slot = await ready(store, passProjection('passes.view'))
    await slot.commit({ from: 0, to: 1, events: [event(1, 'Issued', { id: 'a', at: 1 })] })
    const error = await rejection(
      slot.commit({ from: 0, to: 2, events: [event(2, 'Issued', { id: 'b', at: 2 })] }),
    )
    expect(error.code).toBe('CHECKPOINT_CONFLICT')
    expect(error.details).toMatchObject({ expected: 0, actual: 1 })
    expect(rows(store.reader('passes.view'), 'passes')).toEqual([
      { id: 'a', holder: null, scans: 0, last_at: 1 },
    ])
    expect((await slot.state())?.position).toBe(1)
  })

  it.each([
    ['throws an Error', () => new Error('boom')],
    ['throws a string', () => 'boom'],
  ])('rolls the batch back when apply %s', async (_label, make) => {
    const store = await openStore()
    const base = passProjection('passes.view')
    const failing: Projection<Db> = {
      ...base,
      apply(events, db) {
        base.apply(events, db)
        throw make()
      },
    }
    const slot = await ready(store, failing)
    const error = await rejection(
      slot.commit({ from: 0, to: 1, events: [event(1, 'Issued', { id: 'a', at: 1 })] }),
    )
    expect(error.code).toBe('PROJECTION_FAILED')
    expect(error.message).toContain('boom')
    expect(error.cause === 'boom' || (error.cause as Error).message === 'boom').toBe(true)
    expect(rows(store.reader('passes.view'), 'passes')).toEqual([])
    expect((await slot.state())?.position).toBe(0)
  })

  it('rolls back when an async apply rejects, and keeps other projections out of the open transaction', async () => {
    const store = await openStore()
    const base = passProjection('slow', { table: 'slow_passes' })
    let release: (() => void) | undefined
    const slow: Projection<Db> = {
      ...base,
      async apply(events, db) {
        base.apply(events, db)
        await new Promise<void>((resolve) => {
          release = resolve
        })
        throw new Error('late failure')
      },
    }
    const slowSlot = await ready(store, slow)
    const fastSlot = await ready(store, passProjection('fast', { table: 'fast_passes' }))
    const order: string[] = []
    const slowCommit = rejection(
      slowSlot.commit({ from: 0, to: 1, events: [event(1, 'Issued', { id: 'x', at: 1 })] }),
    )
    const fastCommit = fastSlot
      .commit({ from: 0, to: 1, events: [event(1, 'Issued', { id: 'y', at: 1 })] })
      .then(() => order.push('fast'))
    // After a full turn every queued promise job has run: a fast batch that did not wait for the
    // slow one would have committed by now (its apply is synchronous).
    await new Promise((resolve) => setImmediate(resolve))
    // The fast projection waits: its batch would otherwise land inside the slow one's transaction.
    expect(order).toEqual([])
    release?.()
    const error = await slowCommit
    await fastCommit
    expect(error.code).toBe('PROJECTION_FAILED')
    const reader = store.reader('fast')
    expect(rows(reader, 'slow_passes')).toEqual([])
    expect(rows(reader, 'fast_passes')).toEqual([{ id: 'y', holder: null, scans: 0, last_at: 1 }])
    expect((await slowSlot.state())?.position).toBe(0)
    expect((await fastSlot.state())?.position).toBe(1)
  })

  it('refuses a projection that commits the store’s transaction itself', async () => {
    const store = await openStore()
    const base = passProjection('rogue')
    const slot = await ready(store, {
      ...base,
      apply(events, db) {
        base.apply(events, db)
        db.exec('COMMIT')
      },
    })
    const error = await rejection(
      slot.commit({ from: 0, to: 1, events: [event(1, 'Issued', { id: 'a', at: 1 })] }),
    )
    expect(error.code).toBe('PROJECTION_FAILED')
    expect(error.message).toContain('COMMIT')
    expect((await slot.state())?.position).toBe(0)
  })

  it('applies an async projection and commits after it resolves', async () => {
    const store = await openStore()
    const slot = await ready(store, passProjection('async', { async: true }))
    await slot.commit({ from: 0, to: 4, events: passEvents(2, 1) })
    expect(rows(store.reader('async'), 'passes')).toHaveLength(2)
    expect((await slot.state())?.position).toBe(4)
  })

  it('moves the checkpoint over an empty batch and refuses malformed batches', async () => {
    const store = await openStore()
    const slot = await ready(store, passProjection('passes.view'))
    await slot.commit({ from: 0, to: 50, events: [] })
    expect((await slot.state())?.position).toBe(50)
    expect((await rejection(slot.commit({ from: 50, to: 49, events: [] }))).code).toBe('INVALID_ARGUMENT')
    const outside = { from: 50, to: 51, events: [event(60, 'Issued', { id: 'a', at: 1 })] }
    expect((await rejection(slot.commit(outside))).code).toBe('INVALID_ARGUMENT')
    expect((await slot.state())?.position).toBe(50)
  })

  it('refuses a commit before initialize', async () => {
    const store = await openStore()
    const slot = await store.openSlot(passProjection('passes.view'))
    expect(await slot.state()).toBeNull()
    const error = await rejection(slot.commit({ from: 0, to: 1, events: [] }))
    expect(error.code).toBe('INVALID_STATE')
  })

  it('stores parked events with the batch and clears them on initialize', async () => {
    const store = await openStore()
    const slot = await ready(store, passProjection('passes.view'))
    const bad = event(2, 'Scanned', { id: 'nope', at: 2 }, 'pass-x')
    await slot.commit({
      from: 0,
      to: 2,
      events: [event(1, 'Issued', { id: 'a', at: 1 })],
      parked: [
        {
          position: 2,
          streamId: 'pass-x',
          type: 'Scanned',
          error: 'bad',
          attempts: 3,
          parkedAt: 'now',
          event: bad,
        },
      ],
    })
    const parked = await slot.parked()
    expect(parked).toEqual([
      {
        position: 2,
        streamId: 'pass-x',
        type: 'Scanned',
        error: 'bad',
        attempts: 3,
        parkedAt: 'now',
        event: bad,
      },
    ])
    expect(parked[0]?.event.recordedAt).toBeInstanceOf(Date)
    await slot.initialize({ version: '1', logId: 'log-1' })
    expect(await slot.parked()).toEqual([])
  })
})

describe('sharedStore: table ownership', () => {
  it('rebuilding one projection leaves the other projection and the application untouched', async () => {
    const file = path.join(dir, 'app.db')
    const app = new Database(file)
    app.exec(
      `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE); INSERT INTO users VALUES (1, 'a@x')`,
    )
    app.close()
    const store = await openStore(file)
    const a = await ready(store, passProjection('a', { table: 'a_passes' }))
    const b = await ready(store, passProjection('b', { table: 'b_passes' }))
    await a.commit({ from: 0, to: 9, events: passEvents(3, 2) })
    await b.commit({ from: 0, to: 9, events: passEvents(3, 2) })
    const reader = store.reader('a')
    const bRows = rows(reader, 'b_passes')
    const bState = await b.state()
    const schemaOf = (name: string) =>
      reader
        .prepare(
          `SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND name NOT LIKE 'sqlite%' ORDER BY name`,
        )
        .all(name)
    const bSchema = schemaOf('b_passes')
    const usersSchema = schemaOf('users')

    await a.initialize({ version: '2', logId: 'log-1' })

    expect(rows(reader, 'a_passes')).toEqual([])
    expect((await a.state())?.position).toBe(0)
    expect(rows(reader, 'b_passes')).toEqual(bRows)
    expect(bRows).toHaveLength(3)
    expect(await b.state()).toEqual(bState)
    expect(bState?.position).toBe(9)
    expect(schemaOf('b_passes')).toEqual(bSchema)
    expect(schemaOf('users')).toEqual(usersSchema)
    expect(rows(reader, 'users')).toEqual([{ id: 1, email: 'a@x' }])
    expect(schemaOf('a_passes').map((row: any) => row.name)).toEqual(['a_passes', 'a_passes_by_holder'])
  })

  it('drops the tables an earlier version created that the new version no longer has', async () => {
    const store = await openStore()
    const v1: Projection<Db> = {
      name: 'p',
      version: '1',
      setup: (db) => {
        db.exec('CREATE TABLE old_t (x); CREATE VIEW old_v AS SELECT x FROM old_t')
      },
      apply: () => {},
    }
    const slot = await ready(store, v1)
    await slot.close()
    const v2 = await store.openSlot({
      ...v1,
      version: '2',
      setup: (db) => {
        db.exec('CREATE TABLE new_t (y)')
      },
    })
    await v2.initialize({ version: '2', logId: 'log-1' })
    const names = store
      .reader('p')
      .prepare(
        `SELECT name FROM sqlite_master WHERE name NOT LIKE '%eskit%' AND name NOT LIKE 'sqlite%' ORDER BY name`,
      )
      .all()
    expect(names).toEqual([{ name: 'new_t' }])
  })

  it('refuses a second projection creating the same table, naming both, and changes nothing', async () => {
    const store = await openStore()
    const a = await ready(store, passProjection('a'))
    await a.commit({ from: 0, to: 3, events: passEvents(3, 0) })
    const plain: Projection<Db> = {
      name: 'b',
      version: '1',
      setup: (db) => {
        db.exec('CREATE TABLE passes (id TEXT PRIMARY KEY)')
      },
      apply: () => {},
    }
    const b = await store.openSlot(plain)
    const error = await rejection(b.initialize({ version: '1', logId: 'log-1' }))
    expect(error.code).toBe('SCHEMA_CONFLICT')
    expect(error.message).toContain('"b"')
    expect(error.message).toContain('"a"')
    expect(error.details).toMatchObject({ name: 'b', object: 'passes', owner: 'a' })
    expect(await b.state()).toBeNull()
    expect(rows(store.reader('a'), 'passes')).toHaveLength(3)
    expect((await a.state())?.position).toBe(3)
  })

  it('refuses CREATE TABLE IF NOT EXISTS on another projection’s table (it would create nothing new)', async () => {
    const store = await openStore()
    const a = await ready(store, passProjection('a'))
    await a.commit({ from: 0, to: 3, events: passEvents(3, 0) })
    const b = await store.openSlot(passProjection('b'))
    const error = await rejection(b.initialize({ version: '1', logId: 'log-1' }))
    expect(error.code).toBe('SCHEMA_CONFLICT')
    expect(error.details).toMatchObject({ name: 'b', owner: 'a' })
    expect(await b.state()).toBeNull()
    // a rebuild of a still owns its table alone
    await a.initialize({ version: '1', logId: 'log-1' })
    expect(rows(store.reader('a'), 'passes')).toEqual([])
  })

  it('refuses a projection that would take over a table of the application', async () => {
    const file = path.join(dir, 'app.db')
    const app = new Database(file)
    app.exec(
      `CREATE TABLE passes (id TEXT PRIMARY KEY, holder TEXT, scans INTEGER NOT NULL, last_at INTEGER)`,
    )
    app.exec(`INSERT INTO passes VALUES ('mine', 'app', 0, 0)`)
    app.close()
    const store = await openStore(file)
    const slot = await store.openSlot(passProjection('a'))
    const error = await rejection(slot.initialize({ version: '1', logId: 'log-1' }))
    expect(error.code).toBe('SCHEMA_CONFLICT')
    expect(error.details).toMatchObject({ name: 'a', object: 'passes', owner: null })
    expect(rows(new Database(file, { readonly: true }), 'passes')).toEqual([
      { id: 'mine', holder: 'app', scans: 0, last_at: 0 },
    ])
  })

  it('refuses a setup that drops or alters a table it does not own, rolling everything back', async () => {
    const store = await openStore()
    await ready(store, passProjection('a'))
    const dropper: Projection<Db> = {
      name: 'dropper',
      version: '1',
      setup: (db) => {
        db.exec('DROP TABLE passes; CREATE TABLE mine (x)')
      },
      apply: () => {},
    }
    const alterer: Projection<Db> = {
      name: 'alterer',
      version: '1',
      setup: (db) => {
        db.exec('ALTER TABLE passes ADD COLUMN extra TEXT')
      },
      apply: () => {},
    }
    for (const projection of [dropper, alterer]) {
      const slot = await store.openSlot(projection)
      const error = await rejection(slot.initialize({ version: '1', logId: 'log-1' }))
      expect(error.code).toBe('SCHEMA_CONFLICT')
      expect(error.details).toMatchObject({ name: projection.name, object: 'passes', owner: 'a' })
    }
    const reader = store.reader('a')
    expect(reader.prepare(`SELECT name FROM sqlite_master WHERE name = 'mine'`).all()).toEqual([])
    expect(reader.prepare(`SELECT name FROM pragma_table_info('passes')`).pluck().all()).toEqual([
      'id',
      'holder',
      'scans',
      'last_at',
    ])
  })

  it('refuses a setup that adds an index or trigger to a table it does not own', async () => {
    const file = path.join(dir, 'app.db')
    const app = new Database(file)
    app.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)')
    app.close()
    const store = await openStore(file)
    await ready(store, passProjection('a'))
    const cases: Array<[string, string, string | null]> = [
      ['CREATE INDEX IF NOT EXISTS by_scans ON passes (scans)', 'passes', 'a'],
      ['CREATE INDEX users_by_email ON users (email)', 'users', null],
      [
        'CREATE TABLE mine (x); CREATE TRIGGER t AFTER INSERT ON passes BEGIN INSERT INTO mine VALUES (1); END',
        'passes',
        'a',
      ],
    ]
    for (const [ddl, table, owner] of cases) {
      const slot = await store.openSlot({
        name: 'intruder',
        version: '1',
        setup: (db) => {
          db.exec(ddl)
        },
        apply: () => {},
      })
      const error = await rejection(slot.initialize({ version: '1', logId: 'log-1' }))
      expect(error.code).toBe('SCHEMA_CONFLICT')
      expect(error.details).toMatchObject({ name: 'intruder', object: table, owner })
      await slot.close()
    }
    const names = store
      .reader('a')
      .prepare(
        `SELECT name FROM sqlite_master WHERE name NOT LIKE '%eskit%' AND name NOT LIKE 'sqlite%' ORDER BY name`,
      )
      .pluck()
      .all()
    expect(names).toEqual(['passes', 'passes_by_holder', 'users'])
  })

  it('refuses a setup that touches eskit’s own tables', async () => {
    const store = await openStore()
    const a = await ready(store, passProjection('a'))
    for (const ddl of ['CREATE TABLE _eskit_mine (x)', 'DROP TABLE _eskit_parked']) {
      const slot = await store.openSlot({
        name: 'meddler',
        version: '1',
        setup: (db) => {
          db.exec(ddl)
        },
        apply: () => {},
      })
      const error = await rejection(slot.initialize({ version: '1', logId: 'log-1' }))
      expect(error.code).toBe('SCHEMA_CONFLICT')
      expect(error.message).toContain('_eskit_')
      await slot.close()
    }
    expect(await a.parked()).toEqual([])
    expect((await a.state())?.position).toBe(0)
  })

  it('aborts a batch that writes to another projection’s table', async () => {
    const store = await openStore()
    const a = await ready(store, passProjection('a'))
    await a.commit({ from: 0, to: 1, events: [event(1, 'Issued', { id: 'a1', at: 1 })] })
    const intruder: Projection<Db> = {
      name: 'intruder',
      version: '1',
      setup: (db) => {
        db.exec('CREATE TABLE own (x)')
      },
      apply(_events, db) {
        db.exec('INSERT INTO own VALUES (1)')
        db.exec(`UPDATE passes SET holder = 'stolen'`)
      },
    }
    const slot = await ready(store, intruder)
    const error = await rejection(
      slot.commit({ from: 0, to: 1, events: [event(1, 'Issued', { id: 'z', at: 1 })] }),
    )
    expect(error.code).toBe('PROJECTION_FAILED')
    expect(error.message).toContain('"passes"')
    expect(error.message).toContain('"a"')
    expect(error.message).toContain('"intruder"')
    const reader = store.reader('a')
    expect(rows(reader, 'passes')).toEqual([{ id: 'a1', holder: null, scans: 0, last_at: 1 }])
    expect(rows(reader, 'own')).toEqual([])
    // The owner itself still writes, and so does the application outside any batch.
    await a.commit({ from: 1, to: 2, events: [event(2, 'Scanned', { id: 'a1', at: 2 })] })
    expect(rows(reader, 'passes')).toEqual([{ id: 'a1', holder: null, scans: 1, last_at: 2 }])
  })

  it('refuses a setup that seeds rows into another projection’s table', async () => {
    const store = await openStore()
    await ready(store, passProjection('a'))
    const seeder: Projection<Db> = {
      name: 'seeder',
      version: '1',
      setup: (db) => {
        db.exec('CREATE TABLE seeds (x)')
        db.exec(`INSERT INTO passes VALUES ('seed', null, 0, 0)`)
      },
      apply: () => {},
    }
    const slot = await store.openSlot(seeder)
    const error = await rejection(slot.initialize({ version: '1', logId: 'log-1' }))
    expect(error.code).toBe('SCHEMA_CONFLICT')
    expect(error.details).toMatchObject({ name: 'seeder', object: 'passes', owner: 'a' })
    expect(rows(store.reader('a'), 'passes')).toEqual([])
  })

  it('puts the write guards on only once a second projection shares the database', async () => {
    const db = new Database(path.join(dir, 'app.db'))
    toClose.push(db)
    const store = sharedStore({ database: db })
    toClose.push(store)
    await store.open(context)
    const guards = () =>
      db.prepare(`SELECT tbl_name FROM temp.sqlite_master WHERE type = 'trigger' ORDER BY 1`).pluck().all()
    await ready(store, passProjection('a'))
    expect(guards()).toEqual([])
    await ready(store, passProjection('b', { table: 'b_passes' }))
    expect(guards()).toEqual(['b_passes', 'b_passes', 'b_passes', 'passes', 'passes', 'passes'])
  })

  it('lets writes through when guardWrites is off (documented trade-off)', async () => {
    const store = await openStore(undefined, { guardWrites: false })
    await ready(store, passProjection('a'))
    const writer: Projection<Db> = {
      name: 'writer',
      version: '1',
      setup: () => {},
      apply: (_events, db) => {
        db.exec(`INSERT INTO passes VALUES ('w', null, 0, 0)`)
      },
    }
    const slot = await ready(store, writer)
    await slot.commit({ from: 0, to: 1, events: [event(1, 'Issued', { id: 'w', at: 1 })] })
    expect(rows(store.reader('a'), 'passes')).toHaveLength(1)
  })

  it('restores ownership and guards after a restart', async () => {
    const file = path.join(dir, 'app.db')
    const first = await openStore(file)
    const a = await ready(first, passProjection('a'))
    await a.commit({ from: 0, to: 3, events: passEvents(3, 0) })
    await first.close()
    const second = await openStore(file)
    const again = await second.openSlot(passProjection('a'))
    expect((await again.state())?.position).toBe(3)
    const b = await second.openSlot(passProjection('b'))
    expect((await rejection(b.initialize({ version: '1', logId: 'log-1' }))).code).toBe('SCHEMA_CONFLICT')
    const writer = await ready(second, {
      name: 'w',
      version: '1',
      setup: () => {},
      apply: (_events, db) => {
        db.exec('DELETE FROM passes')
      },
    })
    expect((await rejection(writer.commit({ from: 0, to: 1, events: [event(1, 'X', {})] }))).code).toBe(
      'PROJECTION_FAILED',
    )
    expect(rows(second.reader('a'), 'passes')).toHaveLength(3)
  })

  it('keeps the previous data when setup throws', async () => {
    const store = await openStore()
    const good = await ready(store, passProjection('p'))
    await good.commit({ from: 0, to: 3, events: passEvents(3, 0) })
    await good.close()
    const broken = await store.openSlot({
      ...passProjection('p'),
      setup: (db) => {
        db.exec('CREATE TABLE half (x)')
        throw new Error('setup bug')
      },
    })
    const error = await rejection(broken.initialize({ version: '2', logId: 'log-1' }))
    expect(error.code).toBe('PROJECTION_FAILED')
    expect(error.message).toContain('setup bug')
    expect(await broken.state()).toMatchObject({ version: '1', position: 3 })
    expect(rows(store.reader('p'), 'passes')).toHaveLength(3)
  })
})

describe('sharedStore: lifecycle', () => {
  it('gives a second store on the same file LOCKED until the first closes', async () => {
    const file = path.join(dir, 'app.db')
    const first = await openStore(file)
    const second = sharedStore({ path: file })
    toClose.push(second)
    expect((await rejection(second.open(context))).code).toBe('LOCKED')
    await first.close()
    const third = await openStore(file)
    expect(third.kind).toBe('sqlite-shared')
  })

  it('uses an application connection without closing it, inside its transaction too', async () => {
    const file = path.join(dir, 'app.db')
    const db = new Database(file)
    toClose.push(db)
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)')
    const store = sharedStore({ database: db })
    await store.open(context)
    const slot = await ready(store, passProjection('p'))
    db.exec('BEGIN')
    db.exec('INSERT INTO users VALUES (7)')
    await slot.commit({ from: 0, to: 1, events: [event(1, 'Issued', { id: 'a', at: 1 })] })
    db.exec('COMMIT')
    expect(rows(store.reader('p'), 'passes')).toHaveLength(1)
    expect(store.reader('p')).not.toBe(db)
    await store.close()
    await store.close()
    expect(db.open).toBe(true)
    expect(rows(db, 'users')).toEqual([{ id: 7 }])
    expect(db.prepare(`SELECT count(*) AS n FROM temp.sqlite_master`).get()).toEqual({ n: 0 })
  })

  it('works on an in-memory application database (reader = the same connection)', async () => {
    const db = new Database(':memory:')
    toClose.push(db)
    const store = sharedStore({ database: db })
    toClose.push(store)
    await store.open(context)
    const slot = await ready(store, passProjection('p'))
    await slot.commit({ from: 0, to: 2, events: passEvents(2, 0) })
    expect(store.reader('p')).toBe(db)
    expect(rows(db, 'passes')).toHaveLength(2)
  })

  it('is CLOSED after close, idempotently, and refuses bad options and names', async () => {
    const store = await openStore()
    const slot = await ready(store, passProjection('p'))
    await store.close()
    await store.close()
    expect((await rejection(slot.commit({ from: 0, to: 1, events: [] }))).code).toBe('CLOSED')
    expect((await rejection(store.openSlot(passProjection('q')))).code).toBe('CLOSED')
    expect(() => store.reader('p')).toThrow(expect.objectContaining({ code: 'CLOSED' }))
    expect(() => sharedStore({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    const other = await openStore(path.join(dir, 'other.db'))
    expect((await rejection(other.openSlot(passProjection('../x')))).code).toBe('INVALID_NAME')
    expect(() => other.reader('missing')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }))
  })
})

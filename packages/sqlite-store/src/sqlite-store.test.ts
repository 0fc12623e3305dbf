import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { ProjectionSlot } from '@eskit/core'
import { isEskitError } from '@eskit/core'
import type Database from 'better-sqlite3'
import { describe, expect, it, vi } from 'vitest'
import { defer, recordingLogger, rowsOf, rowsProjection, storedEvents, tempDir } from '../test/support.js'
import { readProjectionFile } from './inspect.js'
import { directoryLayout } from './layout.js'
import { writeProjectionMetadata } from './metadata.js'
import { readRequestResult, requestRebuild } from './requests.js'
import { type SqliteStoreOptions, sqliteStore } from './sqlite-store.js'
import { readStatusFile } from './status-file.js'

const LOG = 'log-1'

async function openStore(dir: string, options: Partial<SqliteStoreOptions> = {}) {
  const logger = recordingLogger()
  const store = sqliteStore({ dir, ...options })
  defer(() => store.close())
  await store.open({ logId: LOG, logger })
  return { store, logger }
}

async function caught(promise: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    if (typeof promise === 'function') promise()
    else await promise
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

async function initialized(slot: ProjectionSlot, count = 0): Promise<void> {
  await slot.initialize({ version: '1', logId: LOG })
  if (count > 0) await slot.commit({ from: 0, to: count, events: storedEvents(count) })
}

describe('sqliteStore: files and names', () => {
  it('creates {dir}/{name}.db with its checkpoint inside; the directory is created when missing', async () => {
    const dir = path.join(tempDir(), 'nested', 'projections')
    const { store } = await openStore(dir)
    const slot = await store.openSlot(rowsProjection('passes.pass_view'))
    expect(await slot.state()).toBeNull()
    await initialized(slot, 4)
    expect(await slot.state()).toMatchObject({ position: 4, version: '1', logId: LOG })
    expect(fs.readdirSync(dir).filter((f) => !f.startsWith('.') && !f.includes('.db-'))).toEqual([
      'passes.pass_view.db',
    ])
    await store.close()
    // at rest the file is self-contained: no -wal/-shm, rollback-journal header
    expect(fs.readdirSync(dir).sort()).toEqual(['.eskit', 'passes.pass_view.db'])
    expect(fs.readFileSync(path.join(dir, 'passes.pass_view.db'))[18]).toBe(1)
    expect(readProjectionFile(path.join(dir, 'passes.pass_view.db'))).toMatchObject({
      position: 4,
      problem: null,
    })
  })

  it('refuses invalid names with INVALID_NAME before touching any file', async () => {
    const dir = tempDir()
    const { store } = await openStore(dir)
    const before = fs.readdirSync(dir, { recursive: true })
    for (const name of ['../x', 'a/b', '', '.eskit', '..']) {
      expect(isEskitError(await caught(store.openSlot(rowsProjection(name))), 'INVALID_NAME'), name).toBe(
        true,
      )
      expect(
        isEskitError(
          await caught(store.beginBuild?.(rowsProjection(name)) as Promise<unknown>),
          'INVALID_NAME',
        ),
      ).toBe(true)
      expect(isEskitError(await caught(() => store.reader(name)), 'INVALID_NAME')).toBe(true)
    }
    expect(fs.readdirSync(dir, { recursive: true })).toEqual(before)
    expect(fs.existsSync(path.join(path.dirname(dir), 'x.db'))).toBe(false)
  })

  it('refuses bad options with INVALID_ARGUMENT', async () => {
    for (const options of [
      {},
      { dir: '' },
      { dir: tempDir(), busyTimeoutMs: -1 },
      { dir: tempDir(), integrityCheck: 'full' },
    ]) {
      const error = await caught(() => sqliteStore(options as SqliteStoreOptions))
      expect(isEskitError(error, 'INVALID_ARGUMENT'), JSON.stringify(options)).toBe(true)
    }
  })

  it('a second store on the same directory gets LOCKED at once; after close it can open', async () => {
    const dir = tempDir()
    const { store } = await openStore(dir)
    const second = sqliteStore({ dir })
    const error = await caught(second.open({ logId: LOG, logger: recordingLogger() }))
    expect(isEskitError(error, 'LOCKED')).toBe(true)
    await store.close()
    await second.open({ logId: LOG, logger: recordingLogger() })
    await second.close()
  })

  it('a stale -wal/-shm without its main file is removed, never paired with the new file', async () => {
    const dir = tempDir()
    // a WAL that belongs to some other, vanished database: replaying it would corrupt the new file
    fs.writeFileSync(path.join(dir, 'passes.db-wal'), Buffer.alloc(8192, 7))
    fs.writeFileSync(path.join(dir, 'passes.db-shm'), Buffer.alloc(32768, 3))
    fs.writeFileSync(path.join(dir, 'passes.db-journal'), Buffer.alloc(512, 1))
    const { store } = await openStore(dir)
    const slot = await store.openSlot(rowsProjection('passes'))
    await initialized(slot, 3)
    expect(rowsOf(store.reader('passes')).map((r) => r.position)).toEqual([1, 2, 3])
    expect(fs.existsSync(path.join(dir, 'passes.db-journal'))).toBe(false)
  })

  it('a -wal/-shm beside a file in rollback mode (crash right after a swap) is discarded, the data kept', async () => {
    const dir = tempDir()
    const first = await openStore(dir)
    await initialized(await first.store.openSlot(rowsProjection('passes')), 5)
    await first.store.close()
    fs.writeFileSync(path.join(dir, 'passes.db-wal'), Buffer.alloc(4096, 9))
    fs.writeFileSync(path.join(dir, 'passes.db-shm'), Buffer.alloc(32768, 9))
    const { store, logger } = await openStore(dir)
    const slot = await store.openSlot(rowsProjection('passes'))
    expect(await slot.state()).toMatchObject({ position: 5 })
    expect(rowsOf(store.reader('passes'))).toHaveLength(5)
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([])
  })

  it('opens files written by writeProjectionMetadata (migrations) as they are', async () => {
    const dir = tempDir()
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(path.join(dir, 'passes.db'))
    db.exec('create table rows (position integer primary key, type text not null, value text not null)')
    db.prepare(`insert into rows values (1, 'Odd', 'migrated')`).run()
    writeProjectionMetadata(db, {
      name: 'passes',
      version: '1',
      logId: LOG,
      position: 1,
      builtAt: '2026-01-01T00:00:00Z',
    })
    db.close()
    const { store } = await openStore(dir)
    const slot = await store.openSlot(rowsProjection('passes'))
    expect(await slot.state()).toEqual({
      position: 1,
      version: '1',
      logId: LOG,
      builtAt: '2026-01-01T00:00:00Z',
    })
    await slot.commit({ from: 1, to: 2, events: storedEvents(1, 1) })
    expect(rowsOf(store.reader('passes')).map((r) => r.value)).toEqual(['migrated', '1:{"n":2}'])
  })

  it('deletes builds left by a crashed process on open', async () => {
    const dir = tempDir()
    const { builds } = directoryLayout(dir)
    fs.mkdirSync(builds, { recursive: true })
    fs.writeFileSync(path.join(builds, 'passes.abcdef012345.db'), 'half a build')
    fs.writeFileSync(path.join(builds, 'passes.abcdef012345.db-journal'), 'x')
    await openStore(dir)
    expect(fs.readdirSync(builds)).toEqual([])
  })
})

describe('sqliteStore: untrusted files are moved aside and rebuilt', () => {
  const cases: Array<[string, (file: string) => Promise<void> | void, RegExp]> = [
    [
      'not SQLite',
      (file) => fs.writeFileSync(file, 'hello, I am a text file pretending to be a database'),
      /bad header/,
    ],
    [
      'a SQLite file that is not an eskit projection',
      async (file) => {
        const { default: Database } = await import('better-sqlite3')
        const db = new Database(file)
        db.exec('create table customers (id integer primary key, name text)')
        db.close()
      },
      /not an eskit projection/,
    ],
    [
      "another projection's file",
      async (file) => {
        const { default: Database } = await import('better-sqlite3')
        const db = new Database(file)
        writeProjectionMetadata(db, { name: 'someone.else', version: '1', logId: LOG, position: 3 })
        db.close()
      },
      /foreign file/,
    ],
    [
      'a damaged SQLite file',
      (file) => {
        const bytes = Buffer.alloc(8192, 0xab)
        Buffer.from('SQLite format 3\0', 'latin1').copy(bytes)
        fs.writeFileSync(file, bytes)
      },
      /./,
    ],
  ]
  for (const [what, make, reason] of cases) {
    it(`${what}: quarantined with a warning, the slot starts empty, others untouched`, async () => {
      const dir = tempDir()
      const first = await openStore(dir)
      await initialized(await first.store.openSlot(rowsProjection('other')), 3)
      await first.store.close()
      const otherBytes = fs.readFileSync(path.join(dir, 'other.db'))
      await make(path.join(dir, 'passes.db'))
      const original = fs.readFileSync(path.join(dir, 'passes.db'))

      const { store, logger } = await openStore(dir)
      const slot = await store.openSlot(rowsProjection('passes'))
      expect(await slot.state()).toBeNull()
      await initialized(slot, 2)
      expect(rowsOf(store.reader('passes'))).toHaveLength(2)
      expect(fs.readFileSync(path.join(dir, 'other.db'))).toEqual(otherBytes)
      const other = await store.openSlot(rowsProjection('other'))
      expect(await other.state()).toMatchObject({ position: 3 })

      const warnings = logger.lines.filter((l) => l.level === 'warn')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]?.fields).toMatchObject({ name: 'passes', reason: expect.stringMatching(reason) })
      const quarantine = directoryLayout(dir).quarantine
      const moved = fs.readdirSync(quarantine)
      expect(moved).toHaveLength(1)
      expect(moved[0]).toMatch(/^passes\.\d{4}-\d\d-\d\dT[\d-]+Z\.db$/)
      expect(fs.readFileSync(path.join(quarantine, moved[0] as string))).toEqual(original)
    })
  }

  it("with integrityCheck 'quick' a healthy file passes and is served", async () => {
    const dir = tempDir()
    const first = await openStore(dir)
    await initialized(await first.store.openSlot(rowsProjection('passes')), 4)
    await first.store.close()
    const { store, logger } = await openStore(dir, { integrityCheck: 'quick' })
    expect(await (await store.openSlot(rowsProjection('passes'))).state()).toMatchObject({ position: 4 })
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([])
  })
})

describe('sqliteStore: batches', () => {
  it('commits synchronously returned work and awaited work alike', async () => {
    const { store } = await openStore(tempDir())
    const asyncApply = rowsProjection('later', '1', {
      apply: async (_events, db) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        db.prepare(`insert into rows values (1000, 'Async', 'after await')`).run()
      },
    })
    const slot = await store.openSlot(asyncApply)
    await initialized(slot, 3)
    expect(rowsOf(store.reader('later')).map((r) => r.position)).toEqual([1, 2, 3, 1000])
    expect(await slot.state()).toMatchObject({ position: 3 })
  })

  it('an apply that throws a non-Error rolls back and fails with PROJECTION_FAILED keeping the value as cause', async () => {
    const { store } = await openStore(tempDir())
    const slot = await store.openSlot(
      rowsProjection('passes', '1', {
        apply: (events) => {
          if (events.some((e) => e.position === 5)) throw 'plain string'
        },
      }),
    )
    await initialized(slot, 3)
    const error = await caught(slot.commit({ from: 3, to: 6, events: storedEvents(3, 3) }))
    expect(isEskitError(error, 'PROJECTION_FAILED')).toBe(true)
    expect((error as Error).cause).toBe('plain string')
    expect(await slot.state()).toMatchObject({ position: 3 })
    expect(rowsOf(store.reader('passes')).map((r) => r.position)).toEqual([1, 2, 3])
  })

  it('a full disk is DISK_FULL (not a projection failure): the batch rolls back, the file stays intact', async () => {
    const dir = tempDir()
    const { store } = await openStore(dir)
    const big = 'x'.repeat(64 * 1024)
    // the writer connection, as apply receives it (the collector's slot does not expose it)
    let writer: Database.Database | undefined
    const slot = await store.openSlot(
      rowsProjection('passes', '1', {
        apply: (events, db) => {
          writer = db
          const insert = db.prepare(`insert into rows values (?, 'Big', ?)`)
          for (const event of events) if (event.position > 3) insert.run(event.position + 1000, big)
        },
      }),
    )
    const other = await store.openSlot(rowsProjection('other'))
    await initialized(slot, 3)
    await initialized(other, 3)
    // simulate a full disk: the writer may not grow the file past its current size
    if (!writer) throw new Error('apply did not run')
    const pages = writer.pragma('page_count', { simple: true }) as number
    writer.pragma(`max_page_count = ${pages + 2}`)
    const error = await caught(slot.commit({ from: 3, to: 10, events: storedEvents(7, 3) }))
    expect(isEskitError(error, 'DISK_FULL')).toBe(true)
    expect(await slot.state()).toMatchObject({ position: 3 })
    expect(rowsOf(store.reader('passes')).map((r) => r.position)).toEqual([1, 2, 3])
    // the other projection is unaffected
    await other.commit({ from: 3, to: 10, events: storedEvents(7, 3) })
    expect(await other.state()).toMatchObject({ position: 10 })
    expect(slot.check?.()).toBe('ok')
  })

  it('a setup that throws leaves the previous data and state in place', async () => {
    const { store } = await openStore(tempDir())
    let fail = false
    const slot = await store.openSlot(
      rowsProjection('passes', '1', {
        setup: (db) => {
          db.exec('create table extra (x)')
          if (fail) throw new Error('setup broke')
        },
      }),
    )
    await initialized(slot, 4)
    fail = true
    const error = await caught(slot.initialize({ version: '2', logId: LOG }))
    expect(isEskitError(error, 'PROJECTION_FAILED')).toBe(true)
    expect(await slot.state()).toMatchObject({ position: 4, version: '1' })
    expect(rowsOf(store.reader('passes'))).toHaveLength(4)
  })

  it('initialize drops every object of the projection (tables, views, triggers, indexes) but not eskit tables', async () => {
    const { store } = await openStore(tempDir())
    let extra = true
    const slot = await store.openSlot(
      rowsProjection('passes', '1', {
        setup: (db) => {
          if (!extra) return
          db.exec(`
            pragma foreign_keys = on;
            create table parent (id integer primary key);
            create table child (id integer primary key, parent_id integer references parent(id));
            create index child_parent on child(parent_id);
            create view odd as select * from rows where type = 'Odd';
            create trigger count_rows after insert on rows begin insert into parent (id) values (new.position); end;
          `)
        },
      }),
    )
    await initialized(slot, 3)
    extra = false
    await slot.initialize({ version: '2', logId: LOG })
    const objects = store
      .reader('passes')
      .prepare(`select type, name from sqlite_master where name not like 'sqlite%' order by name`)
      .all()
    expect(objects).toEqual([
      { type: 'table', name: '_eskit_parked' },
      { type: 'table', name: '_eskit_projection' },
      { type: 'table', name: 'rows' },
    ])
    expect(await slot.state()).toMatchObject({ position: 0, version: '2' })
  })
})

describe('sqliteStore: readers', () => {
  it('a reader is read-only and sees only committed batches', async () => {
    const { store } = await openStore(tempDir())
    let reader: Database.Database | undefined
    const slot = await store.openSlot(
      rowsProjection('passes', '1', {
        apply: (_events, _db) => {
          // inside the transaction: the reader still sees the previous batch
          expect(rowsOf(reader as Database.Database)).toHaveLength(2)
        },
      }),
    )
    await initialized(slot, 0)
    reader = store.reader('passes')
    await slot.commit({ from: 0, to: 2, events: [] })
    await slot.commit({ from: 2, to: 2, events: [] })
    const db = store.reader('passes')
    expect(db).toBe(reader)
    expect(() => db.exec(`insert into rows values (99, 'x', 'y')`)).toThrow(/readonly/i)
    expect(isEskitError(await caught(() => store.reader('missing')), 'NOT_FOUND')).toBe(true)
  })
})

describe('sqliteStore: loss and swap', () => {
  it('a file deleted while running is reported lost; other slots stay ok', async () => {
    const dir = tempDir()
    const { store } = await openStore(dir)
    const a = await store.openSlot(rowsProjection('a'))
    const b = await store.openSlot(rowsProjection('b'))
    await initialized(a, 2)
    await initialized(b, 2)
    expect([a.check?.(), b.check?.()]).toEqual(['ok', 'ok'])
    fs.rmSync(path.join(dir, 'a.db'))
    expect([a.check?.(), b.check?.()]).toEqual(['lost', 'ok'])
    // the collector reopens it: a new, empty file, with no stale WAL of the old inode
    const reopened = await store.openSlot(rowsProjection('a'))
    expect(await reopened.state()).toBeNull()
    await initialized(reopened, 1)
    expect(rowsOf(store.reader('a'))).toHaveLength(1)
    expect(await b.state()).toMatchObject({ position: 2 })
  })

  it('swap replaces the live file atomically: the old reader is closed, the new one sees the build', async () => {
    const dir = tempDir()
    const { store } = await openStore(dir)
    const live = await store.openSlot(rowsProjection('passes', '1'))
    await initialized(live, 6)
    const inodeBefore = fs.statSync(path.join(dir, 'passes.db')).ino
    const oldReader = store.reader('passes')
    const build = await store.beginBuild?.(rowsProjection('passes', '2'))
    if (!build) throw new Error('beginBuild missing')
    await build.initialize({ version: '2', logId: LOG })
    await build.commit({ from: 0, to: 4, events: storedEvents(4) })
    // during the build the live file serves, untouched
    expect(rowsOf(store.reader('passes')).map((r) => r.value[0])).toEqual(['1', '1', '1', '1', '1', '1'])
    expect(fs.readdirSync(directoryLayout(dir).builds)).toHaveLength(1)

    const swapped = await build.swap()
    expect(oldReader.open).toBe(false)
    expect(isEskitError(await caught(live.commit({ from: 6, to: 7, events: [] })), 'CLOSED')).toBe(true)
    expect(await swapped.state()).toMatchObject({ position: 4, version: '2' })
    expect(rowsOf(store.reader('passes')).map((r) => r.value[0])).toEqual(['2', '2', '2', '2'])
    expect(fs.statSync(path.join(dir, 'passes.db')).ino).not.toBe(inodeBefore)
    expect(fs.readdirSync(directoryLayout(dir).builds)).toEqual([])
    expect(swapped.check?.()).toBe('ok')
    await swapped.commit({ from: 4, to: 6, events: storedEvents(2, 4) })
    expect(rowsOf(store.reader('passes'))).toHaveLength(6)
    await store.close()
    expect(readProjectionFile(path.join(dir, 'passes.db'))).toMatchObject({ version: '2', position: 6 })
    expect(fs.readdirSync(dir).sort()).toEqual(['.eskit', 'passes.db'])
  })

  it('a swap whose rename fails keeps the old file serving and the build, and can be retried', async () => {
    const dir = tempDir()
    const { store } = await openStore(dir)
    const live = await store.openSlot(rowsProjection('passes', '1'))
    await initialized(live, 3)
    const build = await store.beginBuild?.(rowsProjection('passes', '2'))
    if (!build) throw new Error('beginBuild missing')
    await build.initialize({ version: '2', logId: LOG })
    await build.commit({ from: 0, to: 3, events: storedEvents(3) })
    const rename = fs.renameSync
    const spy = vi.spyOn(fs, 'renameSync').mockImplementationOnce((from, to) => {
      if (String(from).includes('/.eskit/builds/')) {
        throw Object.assign(new Error('EACCES: permission denied, rename'), { code: 'EACCES' })
      }
      rename(from, to)
    })
    defer(() => spy.mockRestore())
    const error = await caught(build.swap())
    expect(isEskitError(error, 'READ_ONLY')).toBe(true)
    // the old file still serves and still takes batches; the build is intact
    expect(rowsOf(store.reader('passes')).map((r) => r.value[0])).toEqual(['1', '1', '1'])
    await live.commit({ from: 3, to: 4, events: storedEvents(1, 3) })
    expect(await build.state()).toMatchObject({ version: '2', position: 3 })
    await build.commit({ from: 3, to: 4, events: storedEvents(1, 3) })
    const swapped = await build.swap()
    expect(await swapped.state()).toMatchObject({ version: '2', position: 4 })
    expect(rowsOf(store.reader('passes')).map((r) => r.value[0])).toEqual(['2', '2', '2', '2'])
  })

  it('discard removes the build file; the live file is untouched', async () => {
    const dir = tempDir()
    const { store } = await openStore(dir)
    const live = await store.openSlot(rowsProjection('passes'))
    await initialized(live, 3)
    const build = await store.beginBuild?.(rowsProjection('passes', '2'))
    await build?.initialize({ version: '2', logId: LOG })
    await build?.discard()
    await build?.discard()
    expect(fs.readdirSync(directoryLayout(dir).builds)).toEqual([])
    expect(await live.state()).toMatchObject({ position: 3, version: '1' })
    expect(isEskitError(await caught(build?.swap() as Promise<unknown>), 'INVALID_STATE')).toBe(true)
  })
})

describe('sqliteStore: requests and status', () => {
  it('takes requests for its projections, rejects others, and reports the outcome', async () => {
    const dir = tempDir()
    const { store, logger } = await openStore(dir)
    await initialized(await store.openSlot(rowsProjection('passes')), 2)
    const accepted = requestRebuild(dir, 'passes')
    const unknown = requestRebuild(dir, 'nobody')
    fs.writeFileSync(path.join(directoryLayout(dir).requests, 'garbage.json'), '][')
    expect(await store.takeRequests?.()).toEqual([{ type: 'rebuild', id: accepted, name: 'passes' }])
    expect(await store.takeRequests?.()).toEqual([])
    expect(readRequestResult(dir, accepted)).toMatchObject({ state: 'accepted', name: 'passes' })
    expect(readRequestResult(dir, unknown)).toMatchObject({
      state: 'rejected',
      message: expect.stringMatching(/nobody/),
    })
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2)

    const status = { name: 'passes', version: '1', position: 2, head: 2, lag: 0 }
    store.publishStatus?.([{ ...status, state: 'rebuilding' }])
    expect(readStatusFile(dir)).toMatchObject({
      pid: process.pid,
      projections: [{ name: 'passes', state: 'rebuilding' }],
    })
    const build = await store.beginBuild?.(rowsProjection('passes', '2'))
    await build?.initialize({ version: '2', logId: LOG })
    await build?.commit({ from: 0, to: 2, events: storedEvents(2) })
    await build?.swap()
    expect(readRequestResult(dir, accepted)).toMatchObject({ state: 'done', position: 2 })
  })

  it('requests still open when the store closes are reported closed', async () => {
    const dir = tempDir()
    const { store } = await openStore(dir)
    await initialized(await store.openSlot(rowsProjection('passes')), 1)
    const id = requestRebuild(dir, 'passes')
    await store.takeRequests?.()
    await store.close()
    expect(readRequestResult(dir, id)).toMatchObject({
      state: 'closed',
      message: expect.stringMatching(/stopped/),
    })
  })
})

describe('sqliteStore: under a collector', () => {
  it('serves reads while running and leaves self-contained files after stop', async () => {
    const { createCollector, createMemoryEventStore } = await import('@eskit/core')
    const dir = tempDir()
    const events = createMemoryEventStore({ id: LOG })
    const collector = createCollector({ events, store: sqliteStore({ dir }), logger: recordingLogger() })
    collector.add(rowsProjection('a')).add(rowsProjection('b'))
    await collector.start()
    const { position } = await events.append('s-1', [
      { type: 'Odd', data: { n: 1 } },
      { type: 'Even', data: { n: 2 } },
    ])
    await collector.waitFor(position)
    expect(rowsOf(collector.reader<Database.Database>('a')).map((r) => r.value)).toEqual([
      '1:{"n":1}',
      '1:{"n":2}',
    ])
    await collector.stop()
    await events.close()
    expect(fs.readdirSync(dir).sort()).toEqual(['.eskit', 'a.db', 'b.db'])
    for (const name of ['a', 'b']) {
      expect(fs.readFileSync(path.join(dir, `${name}.db`))[18]).toBe(1)
      expect(readProjectionFile(path.join(dir, `${name}.db`))).toMatchObject({ position: 2, problem: null })
    }
  })
})

describe('sqliteStore: a build file deleted while it runs', () => {
  it('the build begins again beside the live file, and rebuild() resolves', async () => {
    const { createCollector, createMemoryEventStore } = await import('@eskit/core')
    const dir = tempDir()
    const events = createMemoryEventStore({ id: LOG })
    let gate: Promise<void> | undefined
    let applied = 0
    const collector = createCollector({
      events,
      store: sqliteStore({ dir }),
      logger: recordingLogger(),
      batchSize: 2,
      pollIntervalMs: 10,
    })
    defer(() => collector.stop())
    collector.add(
      rowsProjection('a', '1', {
        apply: () => {
          applied++
          return gate
        },
      }),
    )
    let head = 0
    for (let n = 1; n <= 6; n++) head = (await events.append('s-1', [{ type: 'Odd', data: { n } }])).position
    await collector.start()
    await collector.waitFor(head)
    const deadline = Date.now() + 3000
    const wait = async (done: () => boolean): Promise<void> => {
      while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    // the first build (in place) is complete
    await wait(() => collector.status()[0]?.state === 'live')
    const live = fs.statSync(path.join(dir, 'a.db')).ino
    let open = (): void => {}
    gate = new Promise((resolve) => {
      open = resolve
    })
    applied = 0
    let rebuilt = false
    const rebuilding = collector.rebuild('a').then(() => {
      rebuilt = true
    })
    const builds = directoryLayout(dir).builds
    await wait(() => applied > 0 && fs.readdirSync(builds).length > 0)
    for (const file of fs.readdirSync(builds)) fs.rmSync(path.join(builds, file))
    gate = undefined
    open()
    await wait(() => rebuilt)
    expect(rebuilt).toBe(true)
    await rebuilding
    expect(fs.statSync(path.join(dir, 'a.db')).ino).not.toBe(live)
    expect(rowsOf(collector.reader<Database.Database>('a')).map((row) => row.position)).toEqual([
      1, 2, 3, 4, 5, 6,
    ])
    expect(fs.readdirSync(builds)).toEqual([])
  })
})

describe('sqliteStore: corruption found while running', () => {
  it('a batch that hits a damaged page fails with CORRUPT; the slot reports lost; reopening moves the file aside', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'passes.db')
    const scanAll = rowsProjection('passes', '1', {
      apply: (_events, db) => {
        db.prepare('select count(*), sum(length(value)) from rows').get()
      },
    })
    const first = await openStore(dir)
    const slot = await first.store.openSlot(scanAll)
    await slot.initialize({ version: '1', logId: LOG })
    const many = storedEvents(3000).map((e) => ({ ...e, data: { n: e.position, pad: 'p'.repeat(200) } }))
    await slot.commit({ from: 0, to: 3000, events: many })
    await first.store.close()
    // damage pages in the middle of the rows table; page 1 (schema) and the metadata pages stay intact
    const bytes = fs.readFileSync(file)
    const pageSize = bytes.readUInt16BE(16)
    for (let page = 20; page < 40; page++) bytes.fill(0xee, page * pageSize, (page + 1) * pageSize)
    fs.writeFileSync(file, bytes)

    const { store, logger } = await openStore(dir)
    const damaged = await store.openSlot(scanAll)
    expect(await damaged.state()).toMatchObject({ position: 3000 }) // the cheap checks pass
    const error = await caught(damaged.commit({ from: 3000, to: 3001, events: storedEvents(1, 3000) }))
    expect(isEskitError(error, 'CORRUPT')).toBe(true)
    expect(damaged.check?.()).toBe('lost')
    await damaged.close()
    const reopened = await store.openSlot(scanAll)
    expect(await reopened.state()).toBeNull()
    expect(fs.readdirSync(directoryLayout(dir).quarantine)).toHaveLength(1)
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.fields?.reason)).toEqual([
      expect.stringMatching(/integrity check failed/),
    ])
  })
})

describe('sqliteStore: a read-only directory', () => {
  /** A directory nobody can write: a read-only tmpfs as root (permissions do not bind root), else chmod. */
  function readOnlyDirectory(): string {
    const dir = path.join(tempDir(), 'readonly')
    fs.mkdirSync(dir)
    if (process.getuid?.() === 0) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', dir])
      defer(() => {
        execFileSync('umount', [dir])
      })
    } else {
      fs.chmodSync(dir, 0o555)
      defer(() => fs.chmodSync(dir, 0o755))
    }
    return dir
  }

  it('open fails with READ_ONLY and creates nothing', async () => {
    const dir = readOnlyDirectory()
    const store = sqliteStore({ dir })
    const error = await caught(store.open({ logId: LOG, logger: recordingLogger() }))
    expect(isEskitError(error, 'READ_ONLY')).toBe(true)
    expect(fs.readdirSync(dir)).toEqual([])
    await store.close()
  })

  it('a projection whose file cannot be opened fails alone with a clear error; nothing is moved', async () => {
    const dir = tempDir()
    fs.mkdirSync(path.join(dir, 'blocked.db')) // a directory where the file should be
    const { store } = await openStore(dir)
    const error = await caught(store.openSlot(rowsProjection('blocked')))
    expect(isEskitError(error)).toBe(true)
    expect((error as Error).message).toMatch(/blocked/)
    expect(fs.statSync(path.join(dir, 'blocked.db')).isDirectory()).toBe(true)
    const other = await store.openSlot(rowsProjection('other'))
    await initialized(other, 2)
    expect(rowsOf(store.reader('other'))).toHaveLength(2)
  })
})

describe('sqliteStore: an apply that ends the transaction', () => {
  it('is reported and nothing of the batch is committed', async () => {
    const { store } = await openStore(tempDir())
    const slot = await store.openSlot(
      rowsProjection('passes', '1', {
        apply: (_events, db) => {
          db.exec('rollback')
        },
      }),
    )
    await initialized(slot, 0)
    const error = await caught(slot.commit({ from: 0, to: 2, events: storedEvents(2) }))
    expect(isEskitError(error, 'IO')).toBe(true)
    expect((error as Error).message).toMatch(/ended inside apply/)
    expect(await slot.state()).toMatchObject({ position: 0 })
    expect(rowsOf(store.reader('passes'))).toEqual([])
    // the slot stays usable
    const next = await store.openSlot(rowsProjection('passes'))
    await next.commit({ from: 0, to: 2, events: storedEvents(2) })
    expect(rowsOf(store.reader('passes'))).toHaveLength(2)
  })
})

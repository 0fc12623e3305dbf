import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createCollector, type ErrorInfo, isEskitError, type Projection } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import { eventually, recordingLogger } from '@eskit/test-kit'
import type Database from 'better-sqlite3'
import { afterEach, describe, expect } from 'vitest'
import { recordedFaults } from '../src/fault-cases.ts'
import { createWorkspace, dumpOf, freshDumps, type Workspace } from '../src/fixture.ts'
import { balances, byType, eventLog } from '../src/projections.ts'

type Db = Database.Database
let ws: Workspace | undefined
afterEach(async () => {
  await ws?.close()
  ws = undefined
})

/** A test that also records its row in docs/reliability.md. */
const fault = recordedFaults('faults')

/** Throws on the event whose data has `poison: true`. */
const poisoned: Projection<Db> = {
  name: 'faulty.poisoned',
  version: '1',
  setup: (db) => {
    db.exec('create table seen (position integer primary key)')
  },
  apply(events, db) {
    const insert = db.prepare('insert into seen values (?)')
    for (const e of events) {
      if ((e.data as { poison?: boolean }).poison) throw new Error(`poison at ${e.position}`)
      insert.run(e.position)
    }
  },
}

const seenPositions = (collector: ReturnType<Workspace['collector']>) =>
  collector
    .reader<Db>(poisoned.name)
    .prepare('select position from seen order by 1')
    .pluck()
    .all() as number[]

describe('a projection that throws on one event', () => {
  for (const policy of ['retry', 'skip', 'stop'] as const) {
    fault(
      `onError '${policy}': the failing projection reports it, the others stay live`,
      `state, error position and parked events checked; two other projections followed 20 later appends live`,
      async () => {
        ws = createWorkspace(7)
        await ws.append(30)
        const poison = await ws.append(1, { poison: true })
        await ws.append(10)
        const errors: ErrorInfo[] = []
        const logger = recordingLogger()
        const collector = ws.collector([eventLog, byType, poisoned], { onError: policy, logger })
        collector.on('error', (info) => errors.push(info))
        await collector.start()
        let head = await ws.events.head()
        await collector.waitFor(head, { projections: [eventLog.name, byType.name] })
        head = await ws.append(20)
        await collector.waitFor(head, { projections: [eventLog.name, byType.name], timeoutMs: 5000 })
        const status = new Map(collector.status().map((s) => [s.name, s]))
        expect(status.get(eventLog.name)?.state).toBe('live')
        expect(status.get(byType.name)?.position).toBe(head)
        expect(dumpOf(collector, eventLog.name).rows).toBe(head)
        expect(errors[0]?.position).toBe(poison)
        expect(errors[0]?.name).toBe(poisoned.name)
        expect(logger.find('error', poisoned.name).length).toBeGreaterThan(0)
        if (policy === 'skip') {
          await collector.waitFor(head, { projections: [poisoned.name] })
          expect(seenPositions(collector)).toHaveLength(head - 1)
          expect(seenPositions(collector)).not.toContain(poison)
          const parked = await collector.parked(poisoned.name)
          expect(parked.map((p) => p.position)).toEqual([poison])
          expect(parked[0]?.event.data).toMatchObject({ poison: true })
        } else {
          const failed = status.get(poisoned.name)
          expect(failed?.state).toBe('failed')
          expect(failed?.position).toBe(poison - 1)
          expect(failed?.error?.position).toBe(poison)
          expect(seenPositions(collector)).toHaveLength(poison - 1)
          if (policy === 'retry') {
            await eventually(
              () => (collector.status().find((s) => s.name === poisoned.name)?.error?.attempts ?? 0) >= 3,
              { what: 'three attempts', timeoutMs: 10_000 },
            )
          } else {
            const error = await collector
              .waitFor(head, { projections: [poisoned.name] })
              .catch((e: unknown) => e)
            expect(isEskitError(error, 'FAILED')).toBe(true)
          }
        }
      },
    )
  }
})

fault(
  'a projection file deleted while the process runs',
  'noticed (warning naming it) and only that projection rebuilt, equal to a fresh rebuild; the other files kept their inode and checkpoint',
  async () => {
    ws = createWorkspace(2)
    await ws.append(200)
    const logger = recordingLogger()
    const collector = ws.collector([eventLog, byType, balances], { logger })
    await collector.start()
    await collector.waitFor(await ws.events.head())
    const file = (name: string) => join(ws!.projectionsDir, `${name}.db`)
    const before = new Map([eventLog, balances].map((p) => [p.name, statSync(file(p.name)).ino]))
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file(byType.name)}${suffix}`, { force: true })
    const head = await ws.append(5)
    // (inode numbers are reused by the filesystem, so the log line tells that it was noticed)
    await eventually(() => logger.find('warn', byType.name).length > 0, {
      what: 'the lost file to be noticed',
      timeoutMs: 10_000,
    })
    await collector.waitFor(head, { timeoutMs: 10_000 })
    expect(existsSync(file(byType.name))).toBe(true)
    for (const [name, ino] of before) expect(statSync(file(name)).ino).toBe(ino)
    const fresh = await freshDumps(ws, [eventLog, byType, balances])
    for (const p of [eventLog, byType, balances])
      expect(dumpOf(collector, p.name).sha256).toBe(fresh.get(p.name))
    expect(logger.lines.some((l) => l.level !== 'debug' && JSON.stringify(l).includes(byType.name))).toBe(
      true,
    )
  },
)

fault(
  'a projection file overwritten with garbage while stopped',
  'moved aside with a warning naming it, rebuilt equal to a fresh rebuild; the other file kept its inode and checkpoint',
  async () => {
    ws = createWorkspace(3)
    const head = await ws.append(150)
    const first = ws.collector([eventLog, byType])
    await first.start()
    await first.waitFor(head)
    await first.stop()
    const target = join(ws.projectionsDir, `${byType.name}.db`)
    const other = join(ws.projectionsDir, `${eventLog.name}.db`)
    const otherBefore = statSync(other)
    writeFileSync(target, Buffer.alloc(64 * 1024, 0x5a))
    for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true })
    const logger = recordingLogger()
    const second = ws.collector([eventLog, byType], { logger })
    await second.start()
    await second.waitFor(head, { timeoutMs: 10_000 })
    const fresh = await freshDumps(ws, [byType])
    expect(dumpOf(second, byType.name).sha256).toBe(fresh.get(byType.name))
    expect(logger.find('warn', byType.name).length).toBeGreaterThan(0)
    expect(statSync(other).ino).toBe(otherBefore.ino)
    expect(second.status().find((s) => s.name === eventLog.name)?.position).toBe(head)
  },
)

fault(
  'stale -wal and -shm left without their main file',
  'removed before the new file was created; the rebuilt projection equals a fresh rebuild',
  async () => {
    ws = createWorkspace(4)
    const head = await ws.append(120)
    const first = ws.collector([byType])
    await first.start()
    await first.waitFor(head)
    await first.stop()
    const target = join(ws.projectionsDir, `${byType.name}.db`)
    unlinkSync(target)
    writeFileSync(`${target}-wal`, Buffer.alloc(8192, 0x11))
    writeFileSync(`${target}-shm`, Buffer.alloc(32768, 0x22))
    const second = ws.collector([byType])
    await second.start()
    await second.waitFor(head, { timeoutMs: 10_000 })
    const fresh = await freshDumps(ws, [byType])
    expect(dumpOf(second, byType.name).sha256).toBe(fresh.get(byType.name))
  },
)

/** Fills its file: the page limit stands in for a full disk. */
function hog(version: string, maxPages: number): Projection<Db> {
  return {
    name: 'faulty.hog',
    version,
    setup(db) {
      db.exec('create table blobs (position integer primary key, body blob not null)')
      db.pragma(`max_page_count = ${maxPages}`)
    },
    apply(events, db) {
      db.pragma(`max_page_count = ${maxPages}`)
      const insert = db.prepare('insert into blobs values (?, ?)')
      for (const e of events) insert.run(e.position, Buffer.alloc(2048, e.position % 251))
    },
  }
}

fault(
  'disk full during a batch',
  'DISK_FULL reported for that projection, its checkpoint did not move past the last good batch, others live',
  async () => {
    ws = createWorkspace(5)
    const head = await ws.append(400)
    const errors: ErrorInfo[] = []
    const collector = ws.collector([eventLog, hog('1', 60)], { batchSize: 50 })
    collector.on('error', (info) => errors.push(info))
    await collector.start()
    await collector.waitFor(head, { projections: [eventLog.name] })
    await eventually(() => errors.length > 0, { what: 'a disk-full error', timeoutMs: 10_000 })
    expect(
      isEskitError(errors[0]?.error, 'DISK_FULL') || /DISK_FULL|full/i.test(String(errors[0]?.error)),
    ).toBe(true)
    const status = collector.status().find((s) => s.name === 'faulty.hog')
    expect(status?.state).toBe('failed')
    const stored = collector
      .reader<Db>('faulty.hog')
      .prepare('select count(*) from blobs')
      .pluck()
      .get() as number
    expect(stored).toBe(status?.position)
    const later = await ws.append(10)
    await collector.waitFor(later, { projections: [eventLog.name], timeoutMs: 5000 })
    expect(dumpOf(collector, eventLog.name).rows).toBe(later)
  },
)

fault(
  'disk full during a build beside the live file',
  'the build failed with DISK_FULL; readers kept getting the old version; others live',
  async () => {
    ws = createWorkspace(6)
    const head = await ws.append(300)
    const first = ws.collector([eventLog, hog('1', 100_000)])
    await first.start()
    await first.waitFor(head)
    await first.stop()
    const errors: ErrorInfo[] = []
    const second = ws.collector([eventLog, hog('2', 40)], { batchSize: 50 })
    second.on('error', (info) => errors.push(info))
    await second.start()
    await eventually(() => errors.length > 0, { what: 'a disk-full error', timeoutMs: 10_000 })
    const served = second.reader<Db>('faulty.hog').prepare('select count(*) from blobs').pluck().get()
    expect(served).toBe(head)
    const later = await ws.append(5)
    await second.waitFor(later, { projections: [eventLog.name], timeoutMs: 5000 })
    expect(second.status().find((s) => s.name === 'faulty.hog')?.state).toMatch(/failed|rebuilding/)
  },
)

fault(
  'a read-only projection directory',
  'start() rejected with READ_ONLY and nothing was created in the directory',
  async () => {
    ws = createWorkspace(8)
    await ws.append(10)
    const dir = join(ws.dir, 'readonly')
    const mounted = makeReadOnlyDir(dir)
    try {
      const collector = ws.collector([byType])
      // Point the store at the read-only directory.
      const store = sqliteStore({ dir })
      const error = await store
        .open({ logId: ws.events.id, logger: recordingLogger() })
        .catch((e: unknown) => e)
      await store.close().catch(() => {})
      await collector.stop()
      expect(isEskitError(error, 'READ_ONLY')).toBe(true)
      expect(readdirSync(dir)).toEqual([])
    } finally {
      mounted.undo()
    }
  },
)

fault(
  'a second process on the same directory',
  'LOCKED at once while the owner runs; the directory was taken over after the owner was killed',
  async () => {
    ws = createWorkspace(9)
    const script = `
      import { sqliteStore } from '@eskit/sqlite-store'
      const store = sqliteStore({ dir: process.argv[1] })
      await store.open({ logId: 'x', logger: { debug() {}, info() {}, warn() {}, error() {} } })
      process.stdout.write('owned\\n')
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ws.projectionsDir], {
      cwd: new URL('..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve())
      child.once('exit', (code) => reject(new Error(`owner process exited (${code}): ${stderr}`)))
    })
    const collector = ws.collector([byType])
    const started = Date.now()
    const error = await collector.start().catch((e: unknown) => e)
    expect(isEskitError(error, 'LOCKED')).toBe(true)
    expect(Date.now() - started).toBeLessThan(2000)
    const exited = new Promise((resolve) => child.on('exit', resolve))
    child.kill('SIGKILL')
    await exited
    const after = ws.collector([byType])
    await after.start()
    await after.waitFor(await ws.events.head())
    expect(after.status()[0]?.position).toBe(await ws.events.head())
  },
)

fault(
  'the event log replaced by an older backup (projections ahead of the log)',
  'every projection rebuilt from the older log and equals a fresh rebuild over it',
  async () => {
    ws = createWorkspace(10)
    await ws.append(100)
    const backup = join(ws.dir, 'events.backup.db')
    ws.backupLog(backup)
    const head = await ws.append(50)
    const first = ws.collector([eventLog, byType, balances])
    await first.start()
    await first.waitFor(head)
    await first.stop()
    await ws.events.close()
    for (const suffix of ['-wal', '-shm']) rmSync(`${ws.eventsPath}${suffix}`, { force: true })
    renameSync(backup, ws.eventsPath)
    // Same log file path, now holding the older copy (same log id, shorter).
    const events = openSqliteEventStore({ path: ws.eventsPath })
    const collector = createCollector({ events, store: sqliteStore({ dir: ws.projectionsDir }) })
    for (const p of [eventLog, byType, balances]) collector.add(p)
    try {
      await collector.start()
      expect(await events.head()).toBe(100)
      await collector.waitFor(100, { timeoutMs: 10_000 })
      for (const p of [eventLog, byType, balances]) {
        expect(collector.status().find((s) => s.name === p.name)?.position).toBe(100)
      }
      expect(dumpOf(collector, eventLog.name).rows).toBe(100)
      const rebuiltCounts = collector
        .reader<Db>(byType.name)
        .prepare('select sum(n) from counts')
        .pluck()
        .get()
      expect(rebuiltCounts).toBe(100)
    } finally {
      await collector.stop()
      await events.close()
    }
  },
)

/** A directory nobody can write: a read-only tmpfs when root (permissions don't bind root), else chmod. */
function makeReadOnlyDir(dir: string): { undo(): void } {
  execFileSync('mkdir', ['-p', dir])
  if (process.getuid?.() === 0) {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', dir])
    return { undo: () => execFileSync('umount', [dir]) }
  }
  execFileSync('chmod', ['555', dir])
  return { undo: () => execFileSync('chmod', ['755', dir]) }
}

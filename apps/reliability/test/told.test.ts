// Faults an operator meets, and what eskit says about them: every outcome is checked on the data
// (files, rows, request results), not only on the error it reports.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { type Collector, createCollector, isEskitError, type Projection, type RebuiltInfo } from '@eskit/core'
import { createReader, defineView } from '@eskit/kysely-views'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { type RequestResult, readRequestResult, requestRebuild, sqliteStore } from '@eskit/sqlite-store'
import { directoryLayout } from '@eskit/sqlite-store/files'
import { damageLeafPage, eventually } from '@eskit/test-kit'
import { dumpProjection } from '@eskit/test-kit/dump-projection'
import BetterSqlite3 from 'better-sqlite3'
import type { Kysely } from 'kysely'
import { afterEach, expect } from 'vitest'
import { recordedFaults } from '../src/fault-cases.ts'
import { createWorkspace, dumpOf, freshDumps, type Workspace } from '../src/fixture.ts'
import { byType, eventLog } from '../src/projections.ts'

type Db = BetterSqlite3.Database
let ws: Workspace | undefined
afterEach(async () => {
  await ws?.close()
  ws = undefined
})

/** A test that also records its row in docs/reliability.md. */
const fault = recordedFaults('told')

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

fault(
  'the event log file deleted while the application runs',
  'appends after the deletion refused with LOG_LOST (none acknowledged); the next start on the new, empty log moved every projection file to quarantine with its rows instead of emptying it',
  async () => {
    ws = createWorkspace(21)
    const head = await ws.append(120)
    const collector = ws.collector([eventLog, byType])
    await collector.start()
    await collector.waitFor(head)
    const before = new Map([eventLog, byType].map((p) => [p.name, dumpOf(collector, p.name).sha256]))
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${ws.eventsPath}${suffix}`, { force: true })
    for (let n = 0; n < 3; n++) {
      const refused = await rejection(ws.events.append('account-1', [{ type: 'Noted', data: { n } }]))
      expect(isEskitError(refused, 'LOG_LOST')).toBe(true)
    }
    await collector.stop()

    // the application restarts: a new, empty log is created at the path
    const events = openSqliteEventStore({ path: ws.eventsPath })
    try {
      expect(await events.head()).toBe(0)
      const restarted = createCollector({ events, store: sqliteStore({ dir: ws.projectionsDir }) })
      restarted.add(eventLog).add(byType)
      await restarted.start()
      await restarted.waitFor(0)
      await restarted.stop()
      const quarantine = directoryLayout(ws.projectionsDir).quarantine
      for (const p of [eventLog, byType]) {
        const kept = readdirSync(quarantine).filter((f) => f.startsWith(`${p.name}.`) && f.endsWith('.db'))
        expect(kept).toHaveLength(1)
        const db = new BetterSqlite3(join(quarantine, kept[0] as string), { readonly: true })
        try {
          expect(dumpProjection(db).sha256).toBe(before.get(p.name))
        } finally {
          db.close()
        }
      }
    } finally {
      await events.close()
    }
  },
)

fault(
  'the event log file replaced by another one while the application runs',
  'appends refused with LOG_LOST; the file now at the path kept its bytes',
  async () => {
    ws = createWorkspace(22)
    await ws.append(30)
    const other = join(ws.dir, 'other.db')
    const restored = openSqliteEventStore({ path: other })
    await restored.append('x', [{ type: 'Noted', data: {} }])
    await restored.close()
    const bytes = readFileSync(other)
    renameSync(other, ws.eventsPath)
    const refused = await rejection(ws.events.append('account-1', [{ type: 'Noted', data: {} }]))
    expect(isEskitError(refused, 'LOG_LOST')).toBe(true)
    expect(readFileSync(ws.eventsPath).equals(bytes)).toBe(true)
  },
)

interface LogTables {
  entries: { position: number; type: string; body: string }
}
type LogEvent = { type: 'Opened' | 'Deposited' | 'Withdrawn' | 'Noted'; data: { amount: number } }
const entry = (e: { position: number; type: string; data: unknown }, db: Kysely<LogTables>) =>
  db
    .insertInto('entries')
    .values({ position: e.position, type: e.type, body: `${JSON.stringify(e.data)}${'.'.repeat(400)}` })
const entries = defineView<LogTables, LogEvent>({
  name: 'audit.entries',
  version: '1',
  migrations: [
    (db) =>
      db.schema
        .createTable('entries')
        .addColumn('position', 'integer', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull()),
  ],
  on: { Opened: entry, Deposited: entry, Withdrawn: entry, Noted: entry },
})

fault(
  'a damaged page in a projection file, started with the default integrity check',
  'the read that met it failed with CORRUPT; the file was quick-checked, moved to quarantine and rebuilt equal to a fresh rebuild; reads and the writer then worked; the other file kept its inode',
  async () => {
    ws = createWorkspace(23)
    const head = await ws.append(400)
    const first = ws.collector([entries as unknown as Projection<Db>, eventLog])
    await first.start()
    await first.waitFor(head)
    await first.stop()
    const file = join(ws.projectionsDir, `${entries.name}.db`)
    damageLeafPage(file, 'entries')
    const other = join(ws.projectionsDir, `${eventLog.name}.db`)
    const otherInode = statSync(other).ino

    const collector: Collector = ws.collector([entries as unknown as Projection<Db>, eventLog])
    const rebuilt: RebuiltInfo[] = []
    collector.on('rebuilt', (info) => rebuilt.push(info))
    await collector.start()
    const reader = createReader(collector, entries)
    const read = () => reader.selectFrom('entries').select(['position']).orderBy('position').execute()
    expect(await rejection(read())).toMatchObject({ code: 'CORRUPT' })
    await eventually(() => rebuilt.some((r) => r.name === entries.name), {
      what: 'the rebuild',
      timeoutMs: 10_000,
    })
    expect(
      readdirSync(directoryLayout(ws.projectionsDir).quarantine).filter((f) => f.endsWith('.db')),
    ).toEqual([expect.stringMatching(/^audit\.entries\./)])
    expect(await read()).toHaveLength(head)
    const later = await ws.append(5)
    await collector.waitFor(later)
    expect(await read()).toHaveLength(later)
    const fresh = await freshDumps(ws, [entries as unknown as Projection<Db>])
    expect(dumpOf(collector, entries.name).sha256).toBe(fresh.get(entries.name))
    expect(statSync(other).ino).toBe(otherInode)
    expect(collector.status().find((s) => s.name === eventLog.name)?.position).toBe(later)
  },
)

async function outcome(dir: string, id: string): Promise<RequestResult | null> {
  const ended = new Set(['done', 'failed', 'rejected', 'closed'])
  await eventually(() => ended.has(readRequestResult(dir, id)?.state ?? 'pending'), {
    what: 'the request to end',
    timeoutMs: 10_000,
  })
  return readRequestResult(dir, id)
}

fault(
  'a rebuild request for a projection failing in its first build',
  "the request ended failed with the projection's error instead of staying accepted",
  async () => {
    ws = createWorkspace(24)
    await ws.append(50)
    const failing: Projection<Db> = {
      ...byType,
      name: 'stats.failing',
      apply() {
        throw new Error('cannot count this event')
      },
    }
    const collector = ws.collector([failing], { pollIntervalMs: 20 })
    await collector.start()
    await eventually(() => collector.status()[0]?.state === 'failed', {
      what: 'the failure',
      timeoutMs: 10_000,
    })
    const id = requestRebuild(ws.projectionsDir, failing.name)
    expect(await outcome(ws.projectionsDir, id)).toMatchObject({
      state: 'failed',
      message: expect.stringContaining('cannot count this event'),
      position: 0,
    })
  },
)

fault(
  'a graceful stop of the owner while a rebuild request runs',
  'the request ended closed (the CLI says CLOSED), not failed; the live file kept serving until the stop',
  async () => {
    ws = createWorkspace(25)
    const head = await ws.append(300)
    let gate: Promise<void> | undefined
    let open = (): void => {}
    const slow: Projection<Db> = {
      ...eventLog,
      apply(events, db) {
        eventLog.apply(events, db)
        return gate
      },
    }
    const collector = ws.collector([slow], { pollIntervalMs: 20, batchSize: 50 })
    await collector.start()
    await collector.waitFor(head)
    gate = new Promise((resolve) => {
      open = resolve
    })
    const id = requestRebuild(ws.projectionsDir, slow.name)
    await eventually(() => collector.status()[0]?.state === 'rebuilding', {
      what: 'the rebuild',
      timeoutMs: 10_000,
    })
    expect(dumpOf(collector, slow.name).rows).toBe(head)
    const stopped = collector.stop()
    open()
    await stopped
    expect(readRequestResult(ws.projectionsDir, id)).toMatchObject({ state: 'closed' })
    expect(existsSync(join(ws.projectionsDir, `${slow.name}.db`))).toBe(true)
  },
)

/**
 * The reference workload rebuilt through the real stack: the SQLite event log, a collector and
 * sqliteStore (or sharedStore), timing start() → caught up. Compares a hand-written projection
 * (prepared statements on the store's connection) with the two defineView styles, alternating
 * rounds so machine noise hits every case alike. Run with Node 24 after building the packages:
 *
 *   node bench/collector.ts [events=200000] [rounds=3] [sqlite|shared]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createCollector, type Projection, type StoredEvent } from '@eskit/core'
import { sharedStore } from '@eskit/shared-store'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import Database from 'better-sqlite3'
import { DDL, type PassEvent, perEventView, recommendedView, SCAN, UPSERT } from './pass-view.ts'

const EVENTS = Number(process.argv[2] ?? 200_000)
const ROUNDS = Number(process.argv[3] ?? 3)
const STORE = process.argv[4] === 'shared' ? 'shared' : 'sqlite'
const STREAMS = 20_000
const EPOCH_MS = 1_767_225_600_000

function handWritten(): Projection<Database.Database> {
  const prepared = new WeakMap<Database.Database, { upsert: Database.Statement; scan: Database.Statement }>()
  return {
    name: 'passes',
    version: '1',
    eventTypes: ['PassIssued', 'PassScanned'],
    setup: (db) => {
      db.exec(DDL)
    },
    apply: (events, db) => {
      let s = prepared.get(db)
      if (!s) {
        s = { upsert: db.prepare(UPSERT), scan: db.prepare(SCAN) }
        prepared.set(db, s)
      }
      for (const event of events as readonly StoredEvent<string, any>[]) {
        if (event.type === 'PassIssued') s.upsert.run(event.data.passId, event.data.holder)
        else s.scan.run(event.data.at, event.data.passId)
      }
    },
  }
}

const recommended = () => recommendedView('passes')
const perEvent = () => perEventView('passes')

// Raw: the log (the SQLite event store's own file) read and parsed, and the view written, by
// hand-written better-sqlite3 code.
function raw(logFile: string, dir: string): void {
  const log = new Database(logFile, { readonly: true })
  const db = new Database(path.join(dir, 'raw.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(DDL)
  const upsert = db.prepare(UPSERT)
  const scan = db.prepare(SCAN)
  const read = log.prepare(
    'select position, type, data from events where position > ? order by position limit 1000',
  )
  const batch = db.transaction((rows: { type: string; data: string }[]) => {
    for (const row of rows) {
      const data = JSON.parse(row.data)
      if (row.type === 'PassIssued') upsert.run(data.passId, data.holder)
      else scan.run(data.at, data.passId)
    }
  })
  let after = 0
  for (;;) {
    const rows = read.all(after) as { position: number; type: string; data: string }[]
    if (rows.length === 0) break
    batch(rows)
    after = rows[rows.length - 1]?.position ?? after
  }
  checks.push(digest(db))
  db.close()
  log.close()
}

// What every case must have built: a wrong result has no speed.
const checks: string[] = []
function digest(db: Database.Database): string {
  return JSON.stringify(
    db
      .prepare('select count(*) as n, sum(scans) as scans, sum(last_at) as at, max(holder) as h from passes')
      .get(),
  )
}

async function buildLog(file: string): Promise<void> {
  if (fs.existsSync(file)) return
  const events = openSqliteEventStore({ path: file })
  for (let index = 0; index < EVENTS; index += 3) {
    const group = Math.floor(index / 3)
    const passId = `p${group % STREAMS}`
    const batch: PassEvent[] = [{ type: 'PassIssued', data: { passId, holder: `holder-${group}` } }]
    for (let i = index + 1; i < Math.min(index + 3, EVENTS); i++) {
      batch.push({ type: 'PassScanned', data: { passId, gate: `gate-${i % 7}`, at: EPOCH_MS + i * 1000 } })
    }
    await events.append(`pass-${passId}`, batch)
  }
  await events.close()
}

async function rebuild(logFile: string, dir: string, projection: Projection<any>): Promise<number> {
  const events = openSqliteEventStore({ path: logFile })
  const store = STORE === 'shared' ? sharedStore({ path: path.join(dir, 'shared.db') }) : sqliteStore({ dir })
  const collector = createCollector({ events, store, batchSize: 1000 })
  collector.add(projection)
  const started = performance.now()
  await collector.start()
  await collector.waitFor(EVENTS, { timeoutMs: 600_000 })
  const ms = performance.now() - started
  checks.push(digest(collector.reader<Database.Database>('passes')))
  await collector.stop()
  await events.close()
  return ms
}

const logDir = path.join(os.tmpdir(), 'eskit-kysely-views-bench')
fs.mkdirSync(logDir, { recursive: true })
const logFile = path.join(logDir, `log-${EVENTS}.db`)
await buildLog(logFile)

const cases: Array<[string, (dir: string) => Promise<number>]> = [
  [
    'raw better-sqlite3 (log + view)',
    async (dir) => {
      const started = performance.now()
      raw(logFile, dir)
      return performance.now() - started
    },
  ],
  ['hand-written Projection', (dir) => rebuild(logFile, dir, handWritten())],
  ['defineView, statements', (dir) => rebuild(logFile, dir, recommended())],
  ['defineView, per-event query', (dir) => rebuild(logFile, dir, perEvent())],
]
// A case's ratio is taken against raw of the same round, so load that comes and goes on the
// machine hits both sides of a ratio alike.
const times = new Map<string, number[]>()
const ratios = new Map<string, number[]>()
for (let round = 0; round < ROUNDS; round++) {
  let rawMs = 0
  for (const [label, run] of cases) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
    try {
      const ms = await run(dir)
      if (label === cases[0]?.[0]) rawMs = ms
      times.set(label, [...(times.get(label) ?? []), ms])
      ratios.set(label, [...(ratios.get(label) ?? []), rawMs / ms])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
if (new Set(checks).size !== 1)
  throw new Error(`cases built different views: ${[...new Set(checks)].join(' / ')}`)
const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0
console.log(
  `${EVENTS} events through the SQLite log, collector and ${STORE}Store; median of ${ROUNDS} rounds`,
)
for (const [label] of cases) {
  const ms = median(times.get(label) ?? [])
  console.log(
    `${label.padEnd(34)} ${Math.round(ms).toString().padStart(6)} ms ${Math.round(EVENTS / (ms / 1000))
      .toLocaleString('en')
      .padStart(9)} events/s  ${median(ratios.get(label) ?? []).toFixed(2)}x raw`,
  )
}

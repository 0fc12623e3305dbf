/**
 * The reference workload of DESIGN.md, applied straight to a better-sqlite3 file (no event log,
 * no collector): raw prepared statements vs a view in the recommended style (defineStatements)
 * vs the per-event style (a Kysely query built per event). One transaction per 1,000 events in
 * every case. Run with Node 24 after `pnpm --filter @eskit/kysely-views build`:
 *
 *   node bench/reference.ts [events=200000] [rounds=5]
 *
 * apps/bench makes the official measurement through sqliteStore; this is the package's own check.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { StoredEvent } from '@eskit/core'
import type { View } from '@eskit/kysely-views'
import Database from 'better-sqlite3'
import { DDL, perEventView, recommendedView, SCAN, type Tables, UPSERT } from './pass-view.ts'

const EVENTS = Number(process.argv[2] ?? 200_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const STREAMS = 20_000
const BATCH = 1000
const EPOCH_MS = 1_767_225_600_000

// Same events as apps/bench: groups of (issued, scanned, scanned) round-robin over the streams.
function makeEvents(count: number): StoredEvent[] {
  const events: StoredEvent[] = []
  const recordedAt = new Date(EPOCH_MS)
  for (let index = 0; index < count; index++) {
    const group = Math.floor(index / 3)
    const passId = `p${group % STREAMS}`
    const base = { position: index + 1, streamId: `pass-${passId}`, streamVersion: 1, recordedAt }
    events.push(
      index % 3 === 0
        ? { ...base, type: 'PassIssued', data: { passId, holder: `holder-${group}` } }
        : {
            ...base,
            type: 'PassScanned',
            data: { passId, gate: `gate-${index % 7}`, at: EPOCH_MS + index * 1000 },
          },
    )
  }
  return events
}

const recommended = recommendedView('bench.recommended')
const perEvent = perEventView('bench.per_event')

function open(dir: string, label: string): Database.Database {
  const db = new Database(path.join(dir, `${label}.db`))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  return db
}

function digest(db: Database.Database): string {
  const hash = createHash('sha256')
  for (const row of db.prepare('select id, holder, scans, last_at from passes order by id').iterate()) {
    const r = row as Tables['passes']
    hash.update(`${r.id}\t${r.holder}\t${r.scans}\t${r.last_at ?? ''}\n`)
  }
  return hash.digest('hex').slice(0, 16)
}

function runRaw(db: Database.Database, events: readonly StoredEvent[]): void {
  db.exec(DDL)
  const upsert = db.prepare(UPSERT)
  const scan = db.prepare(SCAN)
  const batch = db.transaction((slice: readonly StoredEvent[]) => {
    for (const event of slice) {
      if (event.type === 'PassIssued') {
        const data = event.data as { passId: string; holder: string }
        upsert.run(data.passId, data.holder)
      } else {
        const data = event.data as { passId: string; at: number }
        scan.run(data.at, data.passId)
      }
    }
  })
  for (let i = 0; i < events.length; i += BATCH) batch(events.slice(i, i + BATCH))
}

function runView(view: View<Tables>) {
  return (db: Database.Database, events: readonly StoredEvent[]): void => {
    db.transaction(() => view.setup(db))()
    const batch = db.transaction((slice: readonly StoredEvent[]) => view.apply(slice, db))
    for (let i = 0; i < events.length; i += BATCH) batch(events.slice(i, i + BATCH))
  }
}

const cases: Array<[string, (db: Database.Database, events: readonly StoredEvent[]) => void]> = [
  ['raw better-sqlite3', runRaw],
  ['recommended (defineStatements)', runView(recommended)],
  ['per-event Kysely query', runView(perEvent)],
]

const events = makeEvents(EVENTS)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-bench-'))
// Rates per round; a case's ratio is taken against raw of the same round, so load that comes and
// goes on the machine hits both sides of a ratio alike.
const rates = new Map<string, number[]>()
const ratios = new Map<string, number[]>()
const digests = new Map<string, string>()
try {
  for (let round = 0; round < ROUNDS; round++) {
    let rawRate = 0
    for (const [label, run] of cases) {
      const file = `${label.replace(/\W+/g, '_')}-${round}`
      const db = open(dir, file)
      const started = process.hrtime.bigint()
      run(db, events)
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      digests.set(label, digest(db))
      db.close()
      for (const suffix of ['', '-wal', '-shm'])
        fs.rmSync(path.join(dir, `${file}.db${suffix}`), { force: true })
      const rate = EVENTS / seconds
      if (label === cases[0]?.[0]) rawRate = rate
      rates.set(label, [...(rates.get(label) ?? []), rate])
      ratios.set(label, [...(ratios.get(label) ?? []), rate / rawRate])
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0
const rawDigest = digests.get(cases[0]?.[0] ?? '')
console.log(`${EVENTS} events, ${STREAMS} streams, batches of ${BATCH}, median of ${ROUNDS} rounds`)
for (const [label] of cases) {
  const rate = median(rates.get(label) ?? [])
  const ratio = median(ratios.get(label) ?? [])
  const same = digests.get(label) === rawDigest ? 'same rows' : 'DIFFERENT ROWS'
  console.log(
    `${label.padEnd(32)} ${Math.round(rate).toLocaleString('en').padStart(10)} events/s  ${ratio.toFixed(2)}x raw  (${same})`,
  )
}

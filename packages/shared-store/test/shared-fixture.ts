import crypto from 'node:crypto'
import fs from 'node:fs'
import { type Projection, silentLogger } from '@eskit/core'
import Database from 'better-sqlite3'
import { sharedStore } from '../src/shared-store.js'
import { event, passEvents, passProjection } from './helpers.js'

type Db = Database.Database

/**
 * A projection with the awkward schema features a migration must carry: AUTOINCREMENT, a
 * rowid table without INTEGER PRIMARY KEY (rowids kept), WITHOUT ROWID, a view, a trigger,
 * an FTS5 virtual table (its shadow tables come with it), blobs and 64-bit integers beyond
 * JavaScript's safe range.
 */
export const richProjection: Projection<Db> = {
  name: 'rich.view',
  version: '7',
  setup(db) {
    db.exec(`
      CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, position INTEGER NOT NULL, big INTEGER, data BLOB);
      CREATE TABLE loose (label TEXT, n INTEGER);
      CREATE TABLE totals (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      CREATE VIRTUAL TABLE notes USING fts5 (body);
      CREATE INDEX log_by_position ON log (position);
      CREATE VIEW log_summary AS SELECT count(*) AS entries, max(position) AS last FROM log;
      CREATE TRIGGER count_log AFTER INSERT ON log BEGIN
        INSERT INTO totals (kind, n) VALUES ('log', 1) ON CONFLICT (kind) DO UPDATE SET n = n + 1;
      END;
    `)
  },
  apply(events, db) {
    const insert = db.prepare('INSERT INTO log (position, big, data) VALUES (?, ?, ?)')
    const loose = db.prepare('INSERT INTO loose (label, n) VALUES (?, ?)')
    const remove = db.prepare('DELETE FROM loose WHERE n = ?')
    const note = db.prepare('INSERT INTO notes (rowid, body) VALUES (?, ?)')
    for (const e of events) {
      insert.run(e.position, 2n ** 62n + BigInt(e.position), Buffer.from([e.position % 256, 0, 255]))
      loose.run(`label ${e.position}`, e.position)
      // deleted per event, so rowids do not depend on where batches end
      if (e.position % 3 === 0) remove.run(e.position)
      if (e.position % 5 === 0) note.run(e.position, `note about event ${e.position} of ${e.type}`)
    }
  },
}

/** Counts issued passes per holder. */
export const holderProjection: Projection<Db> = {
  name: 'holders.count',
  version: '2',
  eventTypes: ['Issued'],
  setup(db) {
    db.exec('CREATE TABLE holder_counts (holder TEXT PRIMARY KEY, passes INTEGER NOT NULL)')
  },
  apply(events, db) {
    const upsert = db.prepare(
      `INSERT INTO holder_counts (holder, passes) VALUES (?, 1) ON CONFLICT (holder) DO UPDATE SET passes = passes + 1`,
    )
    for (const e of events) {
      const { holder } = e.data as { holder: string | null }
      if (holder === null) throw new Error('holder missing')
      upsert.run(holder)
    }
  },
}

/** The pass view of the reference workload. */
export const passView: Projection<Db> = passProjection('passes.view', { version: '3' })

/**
 * Builds a shared database at `file` as an application would have it: an app table, three
 * projections at different checkpoints, one parked event. Returns the checkpoints.
 */
export async function buildSharedDatabase(
  file: string,
  options: { passes?: number; logId?: string } = {},
): Promise<Record<string, number>> {
  const app = new Database(file)
  app.exec(
    `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users VALUES (1, 'ada@example.com')`,
  )
  app.close()
  const logId = options.logId ?? 'log-1'
  const store = sharedStore({ path: file })
  await store.open({ logId, logger: silentLogger })
  const all = passEvents(options.passes ?? 30, 2)
  const head = all.length
  const positions: Record<string, number> = {}
  for (const projection of [passView, holderProjection, richProjection]) {
    const slot = await store.openSlot(projection)
    await slot.initialize({ version: projection.version, logId })
    const upTo = projection === richProjection ? head - 5 : projection === holderProjection ? head - 1 : head
    const wanted = all.filter(
      (e) => e.position <= upTo && (!projection.eventTypes || projection.eventTypes.includes(e.type)),
    )
    for (let i = 0; i < wanted.length; i += 1000) {
      const batch = wanted.slice(i, i + 1000)
      const from = i === 0 ? 0 : (wanted[i - 1]?.position ?? 0)
      const to = i + 1000 >= wanted.length ? upTo : (batch.at(-1)?.position ?? from)
      await slot.commit({ from, to, events: batch })
    }
    positions[projection.name] = upTo
  }
  // The holder projection parked the last event (onError: 'skip') in its last batch.
  const slot = await store.openSlot(holderProjection)
  const parkedEvent = event(head, 'Scanned', { id: 'bad', at: 0 }, 'pass-bad')
  await slot.commit({
    from: head - 1,
    to: head,
    events: [],
    parked: [
      {
        position: head,
        streamId: 'pass-bad',
        type: 'Scanned',
        error: 'holder missing',
        attempts: 3,
        parkedAt: '2026-01-01T00:00:00.000Z',
        event: parkedEvent,
      },
    ],
  })
  positions[holderProjection.name] = head
  await store.close()
  return positions
}

/** SHA-256 of a file's bytes. */
export function hashFile(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** Every row of every owned table of a projection, rowid included where there is one. */
export function dumpTables(db: Db, tables: readonly string[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {}
  for (const table of tables) {
    const withoutRowid = /without\s+rowid/i.test(
      (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(table) as { sql: string }).sql,
    )
    out[table] = db
      .prepare(`SELECT ${withoutRowid ? '' : 'rowid AS _rowid, '}* FROM "${table}" ORDER BY 1`)
      .safeIntegers(true)
      .all()
  }
  return out
}

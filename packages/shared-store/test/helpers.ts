import type { Projection, StoredEvent } from '@eskit/core'
import type Database from 'better-sqlite3'

export { tempDir } from '@eskit/test-kit'

/** A stored event at `position` for tests that drive slots directly. */
export function event(
  position: number,
  type: string,
  data: unknown,
  streamId = `s-${position}`,
): StoredEvent {
  return {
    position,
    type,
    data,
    streamId,
    streamVersion: 1,
    recordedAt: new Date(1_700_000_000_000 + position),
  }
}

/** Events are `{ type: 'Issued' | 'Scanned', data: { id, holder?, at } }`. */
export interface PassData {
  id: string
  holder?: string
  at: number
}

/**
 * The reference read model: `{table}(id primary key, holder, scans, last_at)` with an index,
 * one upsert or update per event. `table` lets two projections use different tables.
 */
export function passProjection(
  name: string,
  options: { table?: string; version?: string; async?: boolean } = {},
): Projection<Database.Database> {
  const table = options.table ?? 'passes'
  const apply = (events: readonly StoredEvent[], db: Database.Database): void => {
    const issue = db.prepare(
      `INSERT INTO ${table} (id, holder, scans, last_at) VALUES (?, ?, 0, ?)
       ON CONFLICT (id) DO UPDATE SET holder = excluded.holder`,
    )
    const scan = db.prepare(`UPDATE ${table} SET scans = scans + 1, last_at = ? WHERE id = ?`)
    for (const e of events) {
      const data = e.data as PassData
      if (e.type === 'Issued') issue.run(data.id, data.holder ?? null, data.at)
      else if (e.type === 'Scanned') scan.run(data.at, data.id)
    }
  }
  return {
    name,
    version: options.version ?? '1',
    eventTypes: ['Issued', 'Scanned'],
    setup(db) {
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY, holder TEXT, scans INTEGER NOT NULL, last_at INTEGER)`,
      )
      db.exec(`CREATE INDEX IF NOT EXISTS ${table}_by_holder ON ${table} (holder)`)
    },
    apply: options.async
      ? async (events, db) => {
          await new Promise((resolve) => setTimeout(resolve, 5))
          apply(events, db)
        }
      : apply,
  }
}

/** Issued/Scanned events for `passes` passes, `scans` scans each, positions from 1. */
export function passEvents(passes: number, scansPerPass: number): StoredEvent[] {
  const events: StoredEvent[] = []
  let position = 0
  for (let i = 0; i < passes; i++) {
    position++
    events.push(
      event(position, 'Issued', { id: `p${i}`, holder: `holder ${i % 7}`, at: position }, `pass-${i}`),
    )
  }
  for (let s = 0; s < scansPerPass; s++) {
    for (let i = 0; i < passes; i++) {
      position++
      events.push(event(position, 'Scanned', { id: `p${i}`, at: position }, `pass-${i}`))
    }
  }
  return events
}

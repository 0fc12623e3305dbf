import Database from 'better-sqlite3'
import { REFERENCE_STREAMS, workloadEvent } from './workload.ts'

/**
 * The raw baseline: hand-written better-sqlite3, the limit eskit is measured against. Its log is a
 * plain table with the same events as the eskit log; the view and pragmas are the ones eskit's
 * per-file store uses, so the difference is eskit's own cost.
 */

/** The view's schema, shared by the raw baseline and the hand-written eskit projections. */
export function passesDdl(table = 'passes'): string {
  return `create table if not exists "${table}" (id text primary key, holder text not null, scans integer not null default 0, last_at integer)`
}

/** One upsert per `PassIssued`. */
export function upsertSql(table = 'passes'): string {
  return `insert into "${table}" (id, holder, scans, last_at) values (?, ?, 0, null) on conflict (id) do update set holder = excluded.holder`
}

/** One update per `PassScanned`. */
export function scanSql(table = 'passes'): string {
  return `update "${table}" set scans = scans + 1, last_at = ? where id = ?`
}

/** Pragmas of a file written by one process: WAL, and fsync at checkpoints rather than every commit. */
export function tune(db: Database.Database): void {
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
}

/**
 * Writes the first `events` events of the workload to a raw log file (`events` table), or grows an
 * existing one to that size.
 */
export function writeRawLog(file: string, events: number, streams: number = REFERENCE_STREAMS): void {
  const db = new Database(file)
  try {
    tune(db)
    db.exec(
      'create table if not exists events (position integer primary key, stream_id text not null, type text not null, data text not null)',
    )
    const have = (db.prepare('select count(*) as n from events').get() as { n: number }).n
    const insert = db.prepare('insert into events (position, stream_id, type, data) values (?, ?, ?, ?)')
    db.transaction(() => {
      for (let i = have; i < events; i++) {
        const { streamId, event } = workloadEvent(i, streams)
        insert.run(i + 1, streamId, event.type, JSON.stringify(event.data))
      }
    })()
  } finally {
    db.close()
  }
}

/**
 * Pragmas of the raw rebuild: `live` = WAL + synchronous NORMAL (a file that serves while it is
 * written); `build` = what a file built beside and discarded on a crash can afford (journal in
 * memory, synchronous OFF, exclusive lock, 64 MB cache), as sqliteStore's build-beside does.
 */
export type RawPragmas = 'live' | 'build'

/**
 * Rebuilds the `passes` view from a raw log into a new database file: read 1,000 events, parse
 * them, apply them with prepared statements and move a checkpoint, one transaction per batch.
 * Returns the milliseconds it took, file creation included.
 */
export function rawRebuild(
  logFile: string,
  viewFile: string,
  batchSize = 1000,
  pragmas: RawPragmas = 'live',
): number {
  const started = performance.now()
  const log = new Database(logFile, { readonly: true })
  const view = new Database(viewFile)
  try {
    if (pragmas === 'live') {
      tune(view)
    } else {
      view.pragma('locking_mode = EXCLUSIVE')
      view.pragma('journal_mode = MEMORY')
      view.pragma('synchronous = OFF')
      view.pragma('cache_size = -65536')
    }
    view.exec(passesDdl())
    view.exec('create table checkpoint (position integer not null)')
    view.prepare('insert into checkpoint (position) values (0)').run()
    const read = log.prepare(
      'select position, type, data from events where position > ? order by position limit ?',
    )
    const upsert = view.prepare(upsertSql())
    const scan = view.prepare(scanSql())
    const checkpoint = view.prepare('update checkpoint set position = ?')
    const applyBatch = view.transaction((rows: { position: number; type: string; data: string }[]) => {
      for (const row of rows) {
        const data = JSON.parse(row.data)
        if (row.type === 'PassIssued') upsert.run(data.passId, data.holder)
        else scan.run(data.at, data.passId)
      }
      checkpoint.run((rows[rows.length - 1] as { position: number }).position)
    })
    let after = 0
    for (;;) {
      const rows = read.all(after, batchSize) as { position: number; type: string; data: string }[]
      if (rows.length === 0) break
      applyBatch(rows)
      after = (rows[rows.length - 1] as { position: number }).position
    }
    return performance.now() - started
  } finally {
    log.close()
    view.close()
  }
}

/**
 * The raw append baseline: one-row insert transactions (or `batch`-row ones) into a log table
 * shaped like an event store's (global position, stream and version unique), WAL with the given
 * `synchronous`. Returns the milliseconds for `count` events.
 */
export function rawAppends(
  file: string,
  count: number,
  batch: number,
  synchronous: 'FULL' | 'NORMAL',
): number {
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${synchronous}`)
    db.exec(
      `create table if not exists events (position integer primary key, stream_id text not null,
        stream_version integer not null, type text not null, data text not null, metadata text,
        recorded_at text not null, unique (stream_id, stream_version))`,
    )
    const insert = db.prepare(
      'insert into events (stream_id, stream_version, type, data, metadata, recorded_at) values (?, ?, ?, ?, null, ?)',
    )
    const appendMany = db.transaction((streamId: string, first: number, n: number) => {
      const at = new Date().toISOString()
      for (let k = 0; k < n; k++) {
        const { event } = workloadEvent(first + k)
        insert.run(streamId, first + k + 1, event.type, JSON.stringify(event.data), at)
      }
    })
    const started = performance.now()
    for (let done = 0; done < count; done += batch) {
      appendMany(`raw-${Math.floor(done / batch) % 1000}-${done}`, done, Math.min(batch, count - done))
    }
    return performance.now() - started
  } finally {
    db.close()
  }
}

import { createHash } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { PassRow } from './workload.ts'

/** Row count and content hash of a `passes` view: what every case compares before its time counts. */
export interface ViewDigest {
  rows: number
  checksum: string
}

function digestRows(rows: Iterable<PassRow>): ViewDigest {
  const hash = createHash('sha256')
  let count = 0
  for (const row of rows) {
    hash.update(`${row.id}\t${row.holder}\t${row.scans}\t${row.last_at ?? ''}\n`)
    count++
  }
  return { rows: count, checksum: hash.digest('hex').slice(0, 16) }
}

/**
 * Digest of a `passes` table in a SQLite database, rows ordered by id.
 *
 * @example
 * ```ts
 * const digest = viewDigest(db, 'passes')
 * ```
 */
export function viewDigest(db: Database.Database, table = 'passes'): ViewDigest {
  const rows = db
    .prepare(`select id, holder, scans, last_at from "${table}" order by id`)
    .iterate() as IterableIterator<PassRow>
  return digestRows(rows)
}

/** Digest of rows already in memory (the model, or rows read by a peer's own client). */
export function rowsDigest(rows: Iterable<PassRow>): ViewDigest {
  // SQLite orders TEXT by bytes; the ids are ASCII, so JavaScript's code-unit order is the same.
  const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return digestRows(sorted)
}

/** Throws when a case's result differs from the expected view: a wrong result has no speed. */
export function assertDigest(label: string, actual: ViewDigest, expected: ViewDigest): void {
  if (actual.rows !== expected.rows || actual.checksum !== expected.checksum) {
    throw new Error(
      `${label}: wrong result (rows ${actual.rows}, checksum ${actual.checksum}; expected rows ${expected.rows}, checksum ${expected.checksum})`,
    )
  }
}

/**
 * Digest of every own table of a projection's database (eskit's `_eskit*` tables left out), rows
 * ordered by all their columns: for views other than `passes`, compared between two builds.
 *
 * @example
 * ```ts
 * assertDigest('case 12 workers', tablesDigest(db), tablesDigest(serialDb))
 * ```
 */
export function tablesDigest(db: Database.Database): ViewDigest {
  const tables = db
    .prepare(
      `select name from sqlite_master where type = 'table'
       and name not like 'sqlite_%' and name not like '\\_eskit%' escape '\\' order by name`,
    )
    .pluck()
    .all() as string[]
  const hash = createHash('sha256')
  let count = 0
  for (const table of tables) {
    const quoted = `"${table.replaceAll('"', '""')}"`
    const columns =
      (db.prepare(`select count(*) from pragma_table_info(?)`).pluck().get(table) as number) || 1
    const order = Array.from({ length: columns }, (_, i) => i + 1).join(', ')
    hash.update(`${table}\n`)
    for (const row of db.prepare(`select * from ${quoted} order by ${order}`).raw().iterate()) {
      hash.update(`${JSON.stringify(row)}\n`)
      count++
    }
  }
  return { rows: count, checksum: hash.digest('hex').slice(0, 16) }
}

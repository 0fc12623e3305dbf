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

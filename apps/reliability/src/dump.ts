import { createHash } from 'node:crypto'
import type Database from 'better-sqlite3'

/**
 * A deterministic dump of a projection's own tables (eskit's bookkeeping tables left out):
 * every row of every table, ordered, as one JSON text, plus its SHA-256.
 */
export function dumpProjection(db: Database.Database): { text: string; sha256: string; rows: number } {
  const tables = db
    .prepare(
      `select name from sqlite_master where type = 'table'
       and name not like 'sqlite_%' and name not like '\\_eskit%' escape '\\' order by name`,
    )
    .pluck()
    .all() as string[]
  const out: Record<string, unknown[]> = {}
  let rows = 0
  for (const table of tables) {
    const data = db
      .prepare(`select * from "${table.replaceAll('"', '""')}" order by 1, 2`)
      .raw()
      .all()
    out[table] = data
    rows += data.length
  }
  const text = JSON.stringify(out)
  return { text, sha256: createHash('sha256').update(text).digest('hex'), rows }
}

import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'

/** What {@link dumpProjectionFile} returns. */
export interface ProjectionDump {
  /** Every row of every table of the projection's own, as one JSON text. */
  text: string
  sha256: string
  rows: number
}

/**
 * A deterministic dump of a projection's own tables (eskit's `_eskit*` bookkeeping left out),
 * read through an open connection: every row of every table, ordered by its first two columns,
 * and its SHA-256. Two builds of the same view over the same log must give the same dump,
 * however they were made.
 *
 * @example
 * ```ts
 * expect(dumpProjection(collector.reader<Database.Database>('passes')).sha256).toBe(fresh.sha256)
 * ```
 */
export function dumpProjection(db: Database.Database): ProjectionDump {
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

/**
 * {@link dumpProjection} of a projection file, opened read-only.
 *
 * @example
 * ```ts
 * expect(dumpProjectionFile(`${dir}/passes.pass_view.db`).sha256).toBe(serial.sha256)
 * ```
 */
export function dumpProjectionFile(file: string): ProjectionDump {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    return dumpProjection(db)
  } finally {
    db.close()
  }
}

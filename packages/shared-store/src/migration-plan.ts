import { EskitError, isValidProjectionName } from '@eskit/core'
import type Database from 'better-sqlite3'
import type { OwnedObjectRow, ProjectionRow } from './eskit-tables.js'
import { objectKey, quoteIdentifier, type SchemaObject } from './schema-objects.js'

// What the migration reads from the shared database before it writes anything: the projections
// it lists and, for each, the schema objects it owns and how many rows they hold.

/** One projection of the shared database, ready to copy into its own file. */
export interface ProjectionPlan {
  row: ProjectionRow
  /** Ordinary and virtual tables, in creation order (shadow tables come with their virtual table). */
  tables: SchemaObject[]
  /** Indexes, views and triggers, created after the rows are in. */
  others: SchemaObject[]
  rows: number
}

/** The projections the shared database lists; `CORRUPT` when it is not an eskit shared database. */
export function readProjections(source: Database.Database, from: string): ProjectionRow[] {
  const present = source
    .prepare(
      `SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'
       AND name IN ('_eskit_projections', '_eskit_tables', '_eskit_parked')`,
    )
    .get() as { n: number }
  if (present.n !== 3) {
    throw new EskitError('CORRUPT', `${from} is not an eskit shared database (no _eskit_projections table)`, {
      details: { from },
    })
  }
  const rows = source
    .prepare(
      'SELECT name, version, log_id AS logId, position, built_at AS builtAt FROM _eskit_projections ORDER BY name',
    )
    .all() as ProjectionRow[]
  for (const row of rows) {
    if (!isValidProjectionName(row.name)) {
      throw new EskitError(
        'CORRUPT',
        `${from} lists an invalid projection name ${JSON.stringify(row.name)}`,
        {
          details: { from, name: row.name },
        },
      )
    }
  }
  return rows
}

/** The tables (in creation order) and other schema objects `row`'s projection owns. */
export function planProjection(
  source: Database.Database,
  row: ProjectionRow,
  owned: readonly OwnedObjectRow[],
): ProjectionPlan {
  const schema = new Map(
    (
      source
        .prepare(`SELECT type, name, tbl_name AS tableName, sql FROM main.sqlite_master ORDER BY rowid`)
        .all() as SchemaObject[]
    ).map((object, index) => [`${object.type}:${objectKey(object.name)}`, { object, index }]),
  )
  const shadow = new Set(
    (
      source
        .prepare(`SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'`)
        .all() as {
        name: string
      }[]
    ).map((table) => objectKey(table.name)),
  )
  const present = owned
    .map((item) => schema.get(`${item.type}:${objectKey(item.name)}`))
    .filter((found) => found !== undefined)
    .sort((a, b) => a.index - b.index)
    .map((found) => found.object)
  const tables = present.filter((object) => object.type === 'table' && !shadow.has(objectKey(object.name)))
  const others = present.filter((object) => object.type !== 'table' && object.sql !== null)
  let rows = 0
  for (const table of tables) {
    rows += (
      source.prepare(`SELECT count(*) AS n FROM main.${quoteIdentifier(table.name)}`).get() as { n: number }
    ).n
  }
  return { row, tables, others, rows }
}

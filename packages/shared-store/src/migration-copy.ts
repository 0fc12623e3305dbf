import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { EskitError } from '@eskit/core'
import { writeParkedEvents, writeProjectionMetadata } from '@eskit/sqlite-store/files'
import Database from 'better-sqlite3'
import type { ParkedRow } from './eskit-tables.js'
import type { ProjectionPlan } from './migration-plan.js'
import { isVirtualTable, quoteIdentifier, type SchemaObject } from './schema-objects.js'

// How the migration writes one projection's file: built under a temporary name, made durable,
// then linked into place (never over an existing file).

/** Copies one planned projection into `target`; returns the rows copied. */
export async function writeProjectionFile(
  source: Database.Database,
  plan: ProjectionPlan,
  builds: string,
  target: string,
  onRows: (copied: number) => void,
): Promise<number> {
  const temporary = path.join(builds, `${plan.row.name}.migrate-${randomUUID()}.db`)
  let rows = 0
  const db = new Database(temporary)
  try {
    // The temporary file is thrown away on any failure, so it needs no journal while it is built.
    db.pragma('journal_mode = OFF')
    db.pragma('synchronous = OFF')
    db.pragma('foreign_keys = OFF')
    db.exec('BEGIN')
    for (const table of plan.tables) {
      db.exec(table.sql ?? '')
      rows += await copyRows(source, db, table, onRows)
    }
    copySequences(source, db, plan.tables)
    for (const object of plan.others) db.exec(object.sql ?? '')
    writeProjectionMetadata(db, {
      name: plan.row.name,
      version: plan.row.version,
      logId: plan.row.logId,
      position: plan.row.position,
      builtAt: plan.row.builtAt,
    })
    copyParked(source, db, plan.row.name)
    db.exec('COMMIT')
    // At rest a projection file is a self-contained rollback-journal file, as sqliteStore leaves it.
    db.pragma('journal_mode = DELETE')
    db.close()
    fsyncFile(temporary)
    try {
      // link() fails if the target exists: a file that appeared meanwhile is never overwritten.
      fs.linkSync(temporary, target)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new EskitError(
          'INVALID_STATE',
          `refusing to overwrite ${target}, which appeared during the migration`,
          {
            details: { file: target },
          },
        )
      }
      throw error
    }
    fsyncDirectory(path.dirname(target))
    return rows
  } finally {
    if (db.open) db.close()
    for (const suffix of ['', '-journal', '-wal', '-shm']) fs.rmSync(temporary + suffix, { force: true })
  }
}

/** Rows copied between yields to the event loop, so progress is reported while a large table copies. */
const CHUNK_ROWS = 5000

async function copyRows(
  source: Database.Database,
  db: Database.Database,
  table: SchemaObject,
  onRows: (copied: number) => void,
): Promise<number> {
  const columns = (
    source.prepare(`SELECT name, hidden FROM pragma_table_xinfo(?, 'main')`).all(table.name) as {
      name: string
      hidden: number
    }[]
  )
    .filter((column) => column.hidden === 0)
    .map((column) => column.name)
  const virtual = isVirtualTable(table)
  const hasRowid =
    !/\bwithout\s+rowid\b/i.test(table.sql ?? '') &&
    (!virtual || /\busing\s+fts[345]\b/i.test(table.sql ?? '')) &&
    !columns.some((column) => ['rowid', '_rowid_', 'oid'].includes(column.toLowerCase()))
  // rowid is kept so that tables without an INTEGER PRIMARY KEY keep their row identities.
  const list = [...(hasRowid ? ['rowid'] : []), ...columns.map(quoteIdentifier)].join(', ')
  const select = source
    .prepare(`SELECT ${list} FROM main.${quoteIdentifier(table.name)}`)
    .raw(true)
    .safeIntegers(true)
  const insert = db.prepare(
    `INSERT INTO main.${quoteIdentifier(table.name)} (${list}) VALUES (${list
      .split(', ')
      .map(() => '?')
      .join(', ')})`,
  )
  let copied = 0
  let pending = 0
  for (const values of select.iterate() as IterableIterator<unknown[]>) {
    insert.run(values)
    copied++
    if (++pending === CHUNK_ROWS) {
      onRows(pending)
      pending = 0
      // Let timers run (a CLI redraws its progress bar); both transactions stay ours meanwhile.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  if (pending > 0) onRows(pending)
  return copied
}

function copySequences(
  source: Database.Database,
  db: Database.Database,
  tables: readonly SchemaObject[],
): void {
  const hasSequence = source.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'`).get()
  if (!hasSequence) return
  const read = source.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').safeIntegers(true)
  for (const table of tables) {
    const row = read.get(table.name) as { seq: bigint } | undefined
    if (!row) continue
    // AUTOINCREMENT keeps counting from where the shared database was, as if nothing moved.
    db.prepare('DELETE FROM sqlite_sequence WHERE name = ?').run(table.name)
    db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)').run(table.name, row.seq)
  }
}

function copyParked(source: Database.Database, db: Database.Database, name: string): void {
  const rows = source
    .prepare(
      `SELECT position, stream_id AS streamId, type, error, attempts, parked_at AS parkedAt, event
       FROM _eskit_parked WHERE projection = ? ORDER BY position`,
    )
    .all(name) as ParkedRow[]
  writeParkedEvents(db, rows)
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

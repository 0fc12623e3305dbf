import { EskitError } from '@eskit/core'
import Database from 'better-sqlite3'
import { SHARED_FORMAT_VERSION } from './eskit-tables.js'

export function checkFormat(db: Database.Database): void {
  const row = db.prepare(`SELECT value FROM _eskit_meta WHERE key = 'format'`).get() as
    | { value: string }
    | undefined
  if (row?.value !== String(SHARED_FORMAT_VERSION)) {
    throw new EskitError('CORRUPT', `unsupported eskit shared-store format ${row?.value ?? '(none)'}`, {
      details: { format: row?.value },
    })
  }
}

export function openFile(path: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(path, { timeout: busyTimeoutMs })
  try {
    // WAL: readers (the reader connection, the application) are not blocked by a batch in flight.
    db.pragma('journal_mode = WAL')
    // In WAL mode NORMAL loses no committed batch on a process crash; a power cut may lose the
    // last few, data and checkpoint together, and the collector re-applies them.
    db.pragma('synchronous = NORMAL')
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

export function openReader(db: Database.Database, busyTimeoutMs: number): Database.Database {
  // An in-memory database cannot be opened twice: readers share the writer's connection.
  if (db.memory) return db
  return new Database(db.name, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs })
}

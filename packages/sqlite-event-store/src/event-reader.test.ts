import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { useTempDirs } from '../test/helpers.js'
import { READ_SQL } from './event-reader.js'
import { INSERT_FIRST_SQL, openSqliteEventStore } from './open-sqlite-event-store.js'

const tempDir = useTempDirs()
const databases: Database.Database[] = []
afterEach(() => {
  for (const db of databases.splice(0)) db.close()
})

async function logDatabase(): Promise<Database.Database> {
  const file = path.join(tempDir(), 'events.db')
  const store = openSqliteEventStore({ path: file })
  await store.append('a', [{ type: 'T', data: 1 }])
  await store.close()
  const db = new Database(file, { readonly: true })
  databases.push(db)
  return db
}

function plan(db: Database.Database, sql: string, params: unknown[]): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map(
    (r) => r.detail,
  )
}

describe('query plans: every read is an index or rowid-range lookup, never a full scan', () => {
  it('readAll without types seeks the position (rowid) range', async () => {
    const db = await logDatabase()
    expect(plan(db, READ_SQL.all, [0, 10])).toEqual(['SEARCH events USING INTEGER PRIMARY KEY (rowid>?)'])
  })

  it('readAll with types scans a bounded position window, then seeks the (type, position) index', async () => {
    const db = await logDatabase()
    const window = plan(db, READ_SQL.typesInWindow, [0, 40, '["T"]', 10])
    expect(window[0]).toBe('SEARCH events USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)')
    expect(window.some((d) => d.startsWith('SCAN events'))).toBe(false)
    const byIndex = plan(db, READ_SQL.typesByIndex, ['["T","U"]', 0, 10])
    expect(byIndex[0]).toBe('SEARCH events USING INDEX events_type_position (type=? AND position>?)')
    expect(byIndex.some((d) => d.startsWith('SCAN events'))).toBe(false)
  })

  it('readStream and the version check of append seek the (stream_id, stream_version) index', async () => {
    const db = await logDatabase()
    expect(plan(db, READ_SQL.stream, ['a'])).toEqual([
      'SEARCH events USING INDEX events_stream_version (stream_id=?)',
    ])
    expect(plan(db, INSERT_FIRST_SQL, ['a', 'T', '{}', null, 1, 'a', 0, 0])).toEqual([
      'SEARCH events USING COVERING INDEX events_stream_version (stream_id=?)',
    ])
  })
})

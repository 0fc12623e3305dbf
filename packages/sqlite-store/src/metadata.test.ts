import path from 'node:path'
import { isEskitError } from '@eskit/core'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { defer, tempDir } from '../test/support.js'
import { FORMAT_VERSION, readProjectionMetadata, writeProjectionMetadata } from './metadata.js'

const open = (file: string): Database.Database => {
  const db = new Database(file)
  defer(() => {
    db.close()
  })
  return db
}

describe('projection metadata', () => {
  it('writes the eskit tables and the metadata row, and reads them back', () => {
    const db = open(path.join(tempDir(), 'passes.db'))
    writeProjectionMetadata(db, {
      name: 'passes',
      version: '3',
      logId: 'log-1',
      position: 1200,
      builtAt: new Date('2026-01-02T03:04:05.000Z'),
    })
    expect(readProjectionMetadata(db)).toEqual({
      name: 'passes',
      version: '3',
      logId: 'log-1',
      position: 1200,
      formatVersion: FORMAT_VERSION,
      builtAt: '2026-01-02T03:04:05.000Z',
    })
    // writing again replaces the single row
    writeProjectionMetadata(db, { name: 'passes', version: '4', logId: 'log-1', position: 7 })
    expect(readProjectionMetadata(db)).toMatchObject({ version: '4', position: 7 })
    expect(db.prepare('select count(*) as n from _eskit_projection').get()).toEqual({ n: 1 })
  })

  it("joins the caller's transaction: a rollback removes it too", () => {
    const db = open(path.join(tempDir(), 'passes.db'))
    db.exec('begin')
    writeProjectionMetadata(db, { name: 'passes', version: '1', logId: 'log', position: 0 })
    db.exec('rollback')
    expect(db.prepare(`select name from sqlite_master where name like '_eskit%'`).all()).toEqual([])
  })

  it('refuses bad input with a code and writes nothing', () => {
    const db = open(path.join(tempDir(), 'passes.db'))
    const attempts: Array<[unknown, string]> = [
      [{ name: '../x', version: '1', logId: 'l', position: 0 }, 'INVALID_NAME'],
      [{ name: 'p', version: '', logId: 'l', position: 0 }, 'INVALID_ARGUMENT'],
      [{ name: 'p', version: '1', logId: '', position: 0 }, 'INVALID_ARGUMENT'],
      [{ name: 'p', version: '1', logId: 'l', position: -1 }, 'INVALID_ARGUMENT'],
      [{ name: 'p', version: '1', logId: 'l', position: 1.5 }, 'INVALID_ARGUMENT'],
    ]
    for (const [input, code] of attempts) {
      let caught: unknown
      try {
        writeProjectionMetadata(db, input as never)
      } catch (error) {
        caught = error
      }
      expect(isEskitError(caught), JSON.stringify(input)).toBe(true)
      expect((caught as { code: string }).code).toBe(code)
    }
    expect(db.prepare('select count(*) as n from sqlite_master').get()).toEqual({ n: 0 })
  })

  it('reading a database that is not an eskit projection file is CORRUPT', () => {
    const db = open(path.join(tempDir(), 'other.db'))
    db.exec('create table things (id integer)')
    expect(() => readProjectionMetadata(db)).toThrow(/not an eskit projection file/)
    db.exec(
      'create table _eskit_projection (id integer primary key, name text, version text, log_id text, position integer, format_version integer, built_at text)',
    )
    expect(() => readProjectionMetadata(db)).toThrow(/is empty/)
    db.prepare(`insert into _eskit_projection values (1, 'other', '1', 'l', 0, 99, 'x')`).run()
    let caught: unknown
    try {
      readProjectionMetadata(db)
    } catch (error) {
      caught = error
    }
    expect(isEskitError(caught, 'CORRUPT')).toBe(true)
    expect((caught as Error).message).toMatch(/format 99/)
  })
})

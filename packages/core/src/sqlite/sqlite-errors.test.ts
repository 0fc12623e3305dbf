import { describe, expect, it } from 'vitest'
import { EskitError } from '../eskit-error.js'
import { sqliteErrorCode, toEskitError } from './sqlite-errors.js'

const sqliteError = (code: string) => Object.assign(new Error(`sqlite said ${code}`), { code })

describe('SQLite error mapping', () => {
  it('maps result codes to eskit codes', () => {
    const cases: Array<[string, string]> = [
      ['SQLITE_BUSY', 'BUSY'],
      ['SQLITE_BUSY_SNAPSHOT', 'BUSY'],
      ['SQLITE_LOCKED', 'BUSY'],
      ['SQLITE_CORRUPT', 'CORRUPT'],
      ['SQLITE_NOTADB', 'CORRUPT'],
      ['SQLITE_CONSTRAINT_PRIMARYKEY', 'CONSTRAINT'],
      ['SQLITE_FULL', 'DISK_FULL'],
      ['ENOSPC', 'DISK_FULL'],
      ['SQLITE_READONLY', 'READ_ONLY'],
      ['SQLITE_READONLY_DBMOVED', 'READ_ONLY'],
      ['SQLITE_CANTOPEN', 'READ_ONLY'],
      ['SQLITE_PERM', 'READ_ONLY'],
      ['EACCES', 'READ_ONLY'],
      ['EROFS', 'READ_ONLY'],
      ['SQLITE_ERROR', 'INVALID_QUERY'],
      ['SQLITE_ERROR_MISSING_COLLSEQ', 'INVALID_QUERY'],
      ['SQLITE_RANGE', 'INVALID_QUERY'],
      ['SQLITE_IOERR_WRITE', 'IO'],
      ['SOMETHING_ELSE', 'IO'],
    ]
    for (const [raw, code] of cases) expect([raw, sqliteErrorCode(sqliteError(raw))]).toEqual([raw, code])
    expect(sqliteErrorCode('a string')).toBe('IO')
    expect(sqliteErrorCode(null)).toBe('IO')
  })

  it('wraps with a message, the cause and details; an EskitError passes through', () => {
    const original = sqliteError('SQLITE_FULL')
    const wrapped = toEskitError(original, 'could not write passes', { name: 'passes' })
    expect(wrapped).toBeInstanceOf(EskitError)
    expect(wrapped.code).toBe('DISK_FULL')
    expect(wrapped.message).toBe('could not write passes: sqlite said SQLITE_FULL')
    expect(wrapped.cause).toBe(original)
    expect(wrapped.details).toEqual({ name: 'passes' })
    expect(toEskitError(wrapped, 'again')).toBe(wrapped)
    expect(toEskitError('weird', 'odd').message).toBe('odd: weird')
  })
})

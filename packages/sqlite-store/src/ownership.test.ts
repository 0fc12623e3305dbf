import fs from 'node:fs'
import path from 'node:path'
import { isEskitError } from '@eskit/core'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { defer, tempDir } from '../test/support.js'
import { writeProjectionMetadata } from './metadata.js'
import { acquireOwnership, isDirectoryOwned } from './ownership.js'
import { removeProjectionFile } from './remove-projection-file.js'

describe('ownership', () => {
  it('one claim at a time, in this process too; released claims can be taken again', () => {
    const dir = tempDir()
    expect(isDirectoryOwned(dir)).toBe(false)
    const first = acquireOwnership(dir)
    defer(() => first.release())
    expect(isDirectoryOwned(dir)).toBe(true)
    let caught: unknown
    try {
      acquireOwnership(dir)
    } catch (error) {
      caught = error
    }
    expect(isEskitError(caught, 'LOCKED')).toBe(true)
    // probing did not disturb the claim
    expect(isDirectoryOwned(dir)).toBe(true)
    first.release()
    first.release()
    expect(isDirectoryOwned(dir)).toBe(false)
    const second = acquireOwnership(dir)
    second.release()
  })

  it('probing an unowned directory creates nothing', () => {
    const dir = tempDir()
    expect(isDirectoryOwned(dir)).toBe(false)
    expect(fs.readdirSync(dir)).toEqual([])
  })
})

describe('removeProjectionFile', () => {
  it('deletes only the named file and its companions when no process owns the directory', () => {
    const dir = tempDir()
    for (const name of ['a', 'b']) {
      const db = new Database(path.join(dir, `${name}.db`))
      writeProjectionMetadata(db, { name, version: '1', logId: 'l', position: 1 })
      db.close()
    }
    fs.writeFileSync(path.join(dir, 'a.db-wal'), '')
    expect(removeProjectionFile(dir, 'a')).toBe(true)
    expect(fs.readdirSync(dir).sort()).toEqual(['.eskit', 'b.db'])
    expect(removeProjectionFile(dir, 'a')).toBe(false)
  })

  it('refuses with LOCKED while a process owns the directory, and INVALID_NAME for a bad name', () => {
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, 'a.db'), 'x')
    const lock = acquireOwnership(dir)
    defer(() => lock.release())
    for (const [name, code] of [
      ['a', 'LOCKED'],
      ['../a', 'INVALID_NAME'],
    ] as const) {
      let caught: unknown
      try {
        removeProjectionFile(dir, name)
      } catch (error) {
        caught = error
      }
      expect(isEskitError(caught, code)).toBe(true)
    }
    expect(fs.existsSync(path.join(dir, 'a.db'))).toBe(true)
  })
})

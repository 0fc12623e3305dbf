import fs from 'node:fs'
import path from 'node:path'
import { isEskitError } from '@eskit/core'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { defer, recordingLogger, rowsProjection, storedEvents, tempDir } from '../test/support.js'
import { inspectDirectory, readProjectionFile } from './inspect.js'
import { writeProjectionMetadata } from './metadata.js'
import { acquireOwnership } from './ownership.js'
import { sqliteStore } from './sqlite-store.js'
import { writeStatusFile } from './status-file.js'

/** Every file under `dir` with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const stat = fs.statSync(path.join(dir, entry))
    if (stat.isFile()) out[entry] = `${stat.size}:${stat.mtimeMs}`
  }
  return out
}

function projectionFile(
  dir: string,
  name: string,
  position: number,
  journal: 'delete' | 'wal' = 'delete',
): string {
  const file = path.join(dir, `${name}.db`)
  const db = new Database(file)
  if (journal === 'wal') db.pragma('journal_mode = WAL')
  db.exec('create table rows (id integer)')
  writeProjectionMetadata(db, {
    name,
    version: 'v2',
    logId: 'log-1',
    position,
    builtAt: '2026-01-01T00:00:00.000Z',
  })
  db.close()
  return file
}

describe('readProjectionFile', () => {
  it('reads the metadata of a file at rest without creating or changing any file', () => {
    const dir = tempDir()
    const file = projectionFile(dir, 'passes', 42)
    const before = snapshot(dir)
    expect(readProjectionFile(file)).toEqual({
      name: 'passes',
      file,
      sizeBytes: fs.statSync(file).size,
      built: true,
      version: 'v2',
      logId: 'log-1',
      position: 42,
      formatVersion: 1,
      builtAt: '2026-01-01T00:00:00.000Z',
      problem: null,
    })
    expect(snapshot(dir)).toEqual(before)
  })

  it('reads a WAL-mode file whose -wal is gone without creating -wal or -shm', () => {
    const dir = tempDir()
    const file = projectionFile(dir, 'passes', 9, 'wal')
    expect(fs.readFileSync(file)[18]).toBe(2) // the header says WAL
    const before = snapshot(dir)
    expect(readProjectionFile(file)).toMatchObject({ position: 9, problem: null })
    expect(snapshot(dir)).toEqual(before)
  })

  it('reads a live file while its owner writes to it, seeing committed batches', async () => {
    const dir = tempDir()
    const store = sqliteStore({ dir })
    defer(() => store.close())
    await store.open({ logId: 'log-1', logger: recordingLogger() })
    const slot = await store.openSlot(rowsProjection('passes'))
    await slot.initialize({ version: '1', logId: 'log-1' })
    await slot.commit({ from: 0, to: 5, events: storedEvents(5) })
    expect(readProjectionFile(path.join(dir, 'passes.db'))).toMatchObject({
      version: '1',
      position: 5,
      problem: null,
    })
    await slot.commit({ from: 5, to: 8, events: storedEvents(3, 5) })
    expect(readProjectionFile(path.join(dir, 'passes.db'))).toMatchObject({ position: 8 })
  })

  it('reports files it cannot serve as problems, and a missing file as NOT_FOUND', () => {
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, 'garbage.db'), 'this is not a database at all, just text')
    fs.writeFileSync(path.join(dir, 'empty.db'), '')
    const foreign = new Database(path.join(dir, 'foreign.db'))
    foreign.exec('create table t (x)')
    foreign.close()
    projectionFile(dir, 'other', 1)
    fs.renameSync(path.join(dir, 'other.db'), path.join(dir, 'renamed.db'))
    expect(readProjectionFile(path.join(dir, 'garbage.db')).problem).toMatch(/not a SQLite database/)
    expect(readProjectionFile(path.join(dir, 'foreign.db')).problem).toMatch(/not an eskit projection file/)
    expect(readProjectionFile(path.join(dir, 'renamed.db'))).toMatchObject({
      name: 'renamed',
      version: null,
      position: null,
      problem: expect.stringMatching(/foreign file: it holds projection "other"/),
    })
    let caught: unknown
    try {
      readProjectionFile(path.join(dir, 'missing.db'))
    } catch (error) {
      caught = error
    }
    expect(isEskitError(caught, 'NOT_FOUND')).toBe(true)
  })
})

describe('readProjectionFile: files the store has not built into yet', () => {
  it('a 0-byte file and a first build whose setup threw are not built yet, not a problem', async () => {
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, 'empty.db'), '')
    const store = sqliteStore({ dir })
    defer(() => store.close())
    await store.open({ logId: 'log-1', logger: recordingLogger() })
    const failing = rowsProjection('failing', '1', {
      setup: () => {
        throw new Error('no such column: holder')
      },
    })
    const slot = await store.openSlot(failing)
    await expect(slot.initialize({ version: '1', logId: 'log-1' })).rejects.toMatchObject({
      code: 'PROJECTION_FAILED',
    })
    await store.close()
    for (const name of ['empty', 'failing']) {
      expect(readProjectionFile(path.join(dir, `${name}.db`))).toMatchObject({
        name,
        built: false,
        version: null,
        position: null,
        problem: null,
      })
    }
    // and the store reuses both as they are: nothing is moved aside
    const again = sqliteStore({ dir })
    defer(() => again.close())
    const logger = recordingLogger()
    await again.open({ logId: 'log-1', logger })
    for (const name of ['empty', 'failing'])
      expect(await (await again.openSlot(rowsProjection(name))).state()).toBeNull()
    expect(fs.existsSync(path.join(dir, '.eskit', 'quarantine'))).toBe(false)
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([])
  })
})

describe('inspectDirectory', () => {
  it('lists projections, ownership, the published status, builds and quarantined files', () => {
    const dir = tempDir()
    projectionFile(dir, 'b.view', 3)
    projectionFile(dir, 'a.view', 7)
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a projection')
    fs.mkdirSync(path.join(dir, '.eskit', 'builds'), { recursive: true })
    fs.writeFileSync(path.join(dir, '.eskit', 'builds', 'a.view.0123abcd.db'), '')
    fs.mkdirSync(path.join(dir, '.eskit', 'quarantine'), { recursive: true })
    fs.writeFileSync(path.join(dir, '.eskit', 'quarantine', 'c.2026-01-01T00-00-00-000Z.db'), 'x')

    const offline = inspectDirectory(dir)
    expect(offline.owned).toBe(false)
    expect(offline.status).toBeNull()
    expect(offline.projections.map((p) => [p.name, p.position])).toEqual([
      ['a.view', 7],
      ['b.view', 3],
    ])
    expect(offline.builds).toEqual(['a.view.0123abcd.db'])
    expect(offline.quarantined).toEqual(['c.2026-01-01T00-00-00-000Z.db'])

    const lock = acquireOwnership(dir)
    defer(() => lock.release())
    writeStatusFile(dir, [{ name: 'a.view', version: 'v2', state: 'live', position: 7, head: 7, lag: 0 }])
    const owned = inspectDirectory(dir)
    expect(owned.owned).toBe(true)
    expect(owned.status).toMatchObject({ pid: process.pid, projections: [{ name: 'a.view', state: 'live' }] })
  })

  it('throws NOT_FOUND for a directory that does not exist', () => {
    let caught: unknown
    try {
      inspectDirectory(path.join(tempDir(), 'nope'))
    } catch (error) {
      caught = error
    }
    expect(isEskitError(caught, 'NOT_FOUND')).toBe(true)
  })
})

import fs from 'node:fs'
import path from 'node:path'
import { EskitError, silentLogger } from '@eskit/core'
import { inspectDirectory, sqliteStore } from '@eskit/sqlite-store'
import { directoryLayout, PARKED_TABLE, readProjectionMetadata } from '@eskit/sqlite-store/files'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.js'
import { buildSharedDatabase, dumpTables, hashFile } from '../test/shared-fixture.js'
import { type MigrationProgress, migrateSharedToFiles } from './migrate-shared-to-files.js'

let dir: string
let cleanup: () => void
let shared: string
let target: string
let positions: Record<string, number>

beforeEach(async () => {
  ;({ dir, cleanup } = tempDir())
  shared = path.join(dir, 'app.db')
  target = path.join(dir, 'projections')
  positions = await buildSharedDatabase(shared)
})
afterEach(() => cleanup())

const OWNED: Record<string, string[]> = {
  'holders.count': ['holder_counts'],
  'passes.view': ['passes'],
  'rich.view': ['log', 'loose', 'totals', 'notes'],
}

/** Every schema object of a projection: its tables with their indexes and triggers, and its views. */
function schemaOf(db: Database.Database, name: string): unknown[] {
  const tables = [...(OWNED[name] ?? []), ...(name === 'rich.view' ? ['log_summary'] : [])]
  const marks = tables.map(() => '?').join(', ')
  return db
    .prepare(
      `SELECT type, name, tbl_name, sql FROM sqlite_master
       WHERE tbl_name IN (${marks}) AND name NOT LIKE 'sqlite_autoindex%' ORDER BY type, name`,
    )
    .all(...tables)
}

async function rejection(promise: Promise<unknown>): Promise<EskitError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(EskitError)
  return error as EskitError
}

function projectionFiles(): string[] {
  return fs.existsSync(target) ? fs.readdirSync(target).filter((file) => file.endsWith('.db')) : []
}

describe('migrateSharedToFiles', () => {
  it('copies each projection’s tables, schema, checkpoint and parked events into its own file; the source is untouched', async () => {
    const before = hashFile(shared)
    const progress: MigrationProgress[] = []
    const report = await migrateSharedToFiles({
      from: shared,
      dir: target,
      onProgress: (p) => progress.push(p),
    })

    expect(hashFile(shared)).toBe(before)
    expect(projectionFiles().sort()).toEqual(['holders.count.db', 'passes.view.db', 'rich.view.db'])
    expect(report.projections.map((p) => [p.name, p.tables, p.position, p.skipped])).toEqual([
      ['holders.count', ['holder_counts'], positions['holders.count'], false],
      ['passes.view', ['passes'], positions['passes.view'], false],
      ['rich.view', ['log', 'loose', 'totals', 'notes'], positions['rich.view'], false],
    ])
    expect(report.projections.map((p) => p.rows)).toEqual([7, 30, 85 + 57 + 1 + 17])
    expect(report.totalRows).toBe(7 + 30 + 85 + 57 + 1 + 17)
    for (const item of report.projections) {
      expect(item.bytes).toBe(fs.statSync(path.join(target, `${item.name}.db`)).size)
    }
    expect(report.totalBytes).toBe(report.projections.reduce((sum, p) => sum + p.bytes, 0))
    expect(report.durationMs).toBeGreaterThanOrEqual(0)
    expect(progress.at(-1)).toMatchObject({
      projectionsDone: 3,
      projectionsTotal: 3,
      rowsDone: report.totalRows,
    })
    expect(progress.every((p) => p.rowsTotal === report.totalRows)).toBe(true)

    const source = new Database(shared, { readonly: true })
    const versions = Object.fromEntries(
      (source.prepare('SELECT name, version, log_id, built_at FROM _eskit_projections').all() as any[]).map(
        (row) => [row.name, row],
      ),
    )
    for (const [name, tables] of Object.entries(OWNED)) {
      const file = new Database(path.join(target, `${name}.db`), { readonly: true })
      expect(readProjectionMetadata(file)).toMatchObject({
        name,
        version: versions[name].version,
        logId: 'log-1',
        position: positions[name],
        builtAt: versions[name].built_at,
      })
      expect(dumpTables(file, tables)).toEqual(dumpTables(source, tables))
      expect(schemaOf(file, name)).toEqual(schemaOf(source, name))
      // The application's table and the other projections' tables stay behind.
      const names = file
        .prepare(
          `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual')
           AND name NOT LIKE '\\_eskit\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'`,
        )
        .pluck()
        .all()
      expect(names.sort()).toEqual([...tables].sort())
      expect(file.pragma('journal_mode', { simple: true })).toBe('delete')
      file.close()
    }
    source.close()

    const rich = new Database(path.join(target, 'rich.view.db'))
    // the view, trigger and AUTOINCREMENT counter came along and still work
    expect(rich.prepare('SELECT entries, last FROM log_summary').get()).toEqual({ entries: 85, last: 85 })
    rich.prepare('INSERT INTO log (position) VALUES (999)').run()
    expect(rich.prepare('SELECT max(seq) AS seq FROM log').get()).toEqual({ seq: 86 })
    expect(rich.prepare(`SELECT n FROM totals WHERE kind = 'log'`).get()).toEqual({ n: 86 })
    expect(rich.prepare(`SELECT count(*) AS n FROM notes WHERE notes MATCH 'Scanned'`).get()).toEqual({
      n: 11,
    })
    rich.close()

    const holders = new Database(path.join(target, 'holders.count.db'), { readonly: true })
    expect(
      holders.prepare(`SELECT position, stream_id, type, error, attempts, event FROM ${PARKED_TABLE}`).all(),
    ).toEqual([
      {
        position: 90,
        stream_id: 'pass-bad',
        type: 'Scanned',
        error: 'holder missing',
        attempts: 3,
        event: expect.stringContaining('"streamId":"pass-bad"'),
      },
    ])
    holders.close()
    // No temporary file is left behind.
    expect(fs.readdirSync(directoryLayout(target).builds)).toEqual([])
    // What `eskit status --dir` sees: three valid projection files with their checkpoints, and no owner.
    const inspected = inspectDirectory(target)
    expect(inspected.owned).toBe(false)
    expect(inspected.projections.map((p) => [p.name, p.version, p.logId, p.position, p.problem])).toEqual([
      ['holders.count', '2', 'log-1', positions['holders.count'], null],
      ['passes.view', '3', 'log-1', positions['passes.view'], null],
      ['rich.view', '7', 'log-1', positions['rich.view'], null],
    ])
  })

  it('refuses to overwrite an existing projection file and writes nothing', async () => {
    fs.mkdirSync(target, { recursive: true })
    const existing = path.join(target, 'passes.view.db')
    fs.writeFileSync(existing, 'not mine')
    const error = await rejection(migrateSharedToFiles({ from: shared, dir: target }))
    expect(error.code).toBe('INVALID_STATE')
    expect(error.message).toContain('passes.view.db')
    expect(fs.readFileSync(existing, 'utf8')).toBe('not mine')
    expect(projectionFiles()).toEqual(['passes.view.db'])
    // resume does not take a foreign file for a finished copy either
    expect((await rejection(migrateSharedToFiles({ from: shared, dir: target, resume: true }))).code).toBe(
      'INVALID_STATE',
    )
    expect(fs.readFileSync(existing, 'utf8')).toBe('not mine')
  })

  it('re-runs with resume: keeps the files already copied and copies the rest', async () => {
    await migrateSharedToFiles({ from: shared, dir: target })
    const kept = path.join(target, 'holders.count.db')
    const keptHash = hashFile(kept)
    fs.rmSync(path.join(target, 'rich.view.db'))
    expect((await rejection(migrateSharedToFiles({ from: shared, dir: target }))).code).toBe('INVALID_STATE')
    const report = await migrateSharedToFiles({ from: shared, dir: target, resume: true })
    expect(report.projections.map((p) => [p.name, p.skipped])).toEqual([
      ['holders.count', true],
      ['passes.view', true],
      ['rich.view', false],
    ])
    expect(report.totalRows).toBe(85 + 57 + 1 + 17)
    expect(hashFile(kept)).toBe(keptHash)
    expect(projectionFiles().sort()).toEqual(['holders.count.db', 'passes.view.db', 'rich.view.db'])
  })

  it('refuses with LOCKED while a sqliteStore owns the directory, writing nothing', async () => {
    const running = sqliteStore({ dir: target })
    await running.open({ logId: 'log-1', logger: silentLogger })
    try {
      expect((await rejection(migrateSharedToFiles({ from: shared, dir: target }))).code).toBe('LOCKED')
      expect(projectionFiles()).toEqual([])
    } finally {
      await running.close()
    }
    const report = await migrateSharedToFiles({ from: shared, dir: target })
    expect(report.projections).toHaveLength(3)
  })

  it('refuses a source that is missing or not an eskit shared database', async () => {
    expect(
      (await rejection(migrateSharedToFiles({ from: path.join(dir, 'nope.db'), dir: target }))).code,
    ).toBe('NOT_FOUND')
    const plain = path.join(dir, 'plain.db')
    new Database(plain).exec('CREATE TABLE t (x)')
    expect((await rejection(migrateSharedToFiles({ from: plain, dir: target }))).code).toBe('CORRUPT')
    expect(projectionFiles()).toEqual([])
  })
})

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { directoryLayout, readProjectionMetadata } from '@eskit/sqlite-store/files'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { migrateSharedToFiles } from '../src/index.js'
import { tempDir } from './helpers.js'
import { buildSharedDatabase, dumpTables, hashFile } from './shared-fixture.js'

const fixture = path.join(import.meta.dirname, 'fixtures', 'migrate-and-die.mjs')
let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

it('a migration killed halfway leaves no half-written file looking complete, and a re-run finishes it', async () => {
  const shared = path.join(dir, 'app.db')
  const target = path.join(dir, 'projections')
  // 9,000 events: the rich projection's log table is copied in several chunks.
  await buildSharedDatabase(shared, { passes: 3000 })
  const sourceHash = hashFile(shared)

  const child = spawn(process.execPath, [fixture, shared, target, 'rich.view'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += String(chunk)
  })
  const [, signal] = await once(child, 'exit')
  expect(signal).toBe('SIGKILL')
  expect(output).toBe('')

  // The two projections copied before the crash are complete files; the third has no {name}.db,
  // only a temporary file in .eskit/builds that no store takes for a projection.
  const files = fs.readdirSync(target).filter((file) => file.endsWith('.db'))
  expect(files.sort()).toEqual(['holders.count.db', 'passes.view.db'])
  for (const file of files) {
    const db = new Database(path.join(target, file), { readonly: true })
    expect(readProjectionMetadata(db).name).toBe(file.slice(0, -3))
    db.close()
  }
  const builds = directoryLayout(target).builds
  expect(fs.readdirSync(builds).some((file) => file.startsWith('rich.view.migrate-'))).toBe(true)
  expect(hashFile(shared)).toBe(sourceHash)

  const report = await migrateSharedToFiles({ from: shared, dir: target, resume: true })
  expect(report.projections.map((p) => [p.name, p.skipped])).toEqual([
    ['holders.count', true],
    ['passes.view', true],
    ['rich.view', false],
  ])
  expect(fs.readdirSync(builds)).toEqual([])
  expect(hashFile(shared)).toBe(sourceHash)

  // Same result as a migration that never crashed.
  const clean = path.join(dir, 'clean')
  await migrateSharedToFiles({ from: shared, dir: clean })
  const tables = {
    'holders.count': ['holder_counts'],
    'passes.view': ['passes'],
    'rich.view': ['log', 'loose', 'totals', 'notes'],
  }
  for (const [name, owned] of Object.entries(tables)) {
    const resumed = new Database(path.join(target, `${name}.db`), { readonly: true })
    const fresh = new Database(path.join(clean, `${name}.db`), { readonly: true })
    expect(dumpTables(resumed, owned)).toEqual(dumpTables(fresh, owned))
    expect(readProjectionMetadata(resumed)).toEqual(readProjectionMetadata(fresh))
    resumed.close()
    fresh.close()
  }
})

import path from 'node:path'
import { createCollector } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import type Database from 'better-sqlite3'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { migrateSharedToFiles, sharedStore } from '../src/index.js'
import { tempDir } from './helpers.js'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

it('the README usage and migration examples run as written', async () => {
  const data = (file: string) => path.join(dir, 'data', file)
  // --- README "Usage" ---
  const events = openSqliteEventStore({ path: data('events.db') })
  const collector = createCollector({ events, store: sharedStore({ path: data('app.db') }) })
  collector.add({
    name: 'passes.pass_view',
    version: '1',
    eventTypes: ['PassIssued', 'PassScanned'],
    setup: (db: Database.Database) => {
      db.exec('CREATE TABLE passes (id TEXT PRIMARY KEY, holder TEXT, scans INTEGER NOT NULL DEFAULT 0)')
    },
    apply: (batch, db: Database.Database) => {
      const issue = db.prepare('INSERT INTO passes (id, holder) VALUES (?, ?)')
      const scan = db.prepare('UPDATE passes SET scans = scans + 1 WHERE id = ?')
      for (const e of batch) {
        const data = e.data as { passId: string; holder?: string }
        if (e.type === 'PassIssued') issue.run(data.passId, data.holder)
        else scan.run(data.passId)
      }
    },
  })
  await collector.start()
  const { position } = await events.append('pass-1', [
    { type: 'PassIssued', data: { passId: 'p1', holder: 'Ada' } },
  ])
  await collector.waitFor(position)
  expect(
    collector.reader<Database.Database>('passes.pass_view').prepare('SELECT * FROM passes').all(),
  ).toEqual([{ id: 'p1', holder: 'Ada', scans: 0 }])
  await collector.stop()
  await events.close()

  // --- README "Migrating to per-file mode" ---
  const progress: number[] = []
  const report = await migrateSharedToFiles({
    from: data('app.db'),
    dir: data('projections'),
    onProgress: (p) => progress.push(p.rowsDone),
  })
  expect(report.projections).toEqual([
    {
      name: 'passes.pass_view',
      tables: ['passes'],
      rows: 1,
      bytes: expect.any(Number),
      position,
      skipped: false,
    },
  ])
  expect(progress.at(-1)).toBe(1)
})

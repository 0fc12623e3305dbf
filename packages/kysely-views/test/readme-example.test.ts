/**
 * The README's pass view example, run as written (paths in a temporary directory): the
 * statements style on sqliteStore with the SQLite event log, read through createReader.
 */
import path from 'node:path'
import { createCollector } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import type { Kysely } from 'kysely'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { createReader, defineStatements, defineView, type Params } from '../src/index.js'
import { tempDir } from './fixtures.js'

type PassEvent =
  | { type: 'PassIssued'; data: { passId: string; holder: string } }
  | { type: 'PassScanned'; data: { passId: string; gate: string; at: number } }

interface PassTables {
  passes: { id: string; holder: string; scans: number; last_at: number | null }
}

const statements = defineStatements((db: Kysely<PassTables>) => ({
  issue: (p: Params<{ id: string; holder: string }>) =>
    db
      .insertInto('passes')
      .values({ id: p.id, holder: p.holder, scans: 0, last_at: null })
      .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder') }))),
  scan: (p: Params<{ id: string; at: number }>) =>
    db
      .updateTable('passes')
      .set((eb) => ({ scans: eb('scans', '+', 1), last_at: p.at }))
      .where('id', '=', p.id),
  find: (p: Params<{ id: string }>) => db.selectFrom('passes').selectAll().where('id', '=', p.id),
}))

const passView = defineView<PassTables, PassEvent>({
  name: 'passes.pass_view',
  version: '1',
  migrations: [
    (db) =>
      db.schema
        .createTable('passes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('scans', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_at', 'integer'),
  ],
  on: {
    PassIssued: (e) => statements.issue({ id: e.data.passId, holder: e.data.holder }),
    PassScanned: (e, _db, tx) => {
      const pass = tx.first(statements.find({ id: e.data.passId }))
      if (pass === undefined) return
      if (pass.last_at !== null && e.data.at - pass.last_at < 1000) return
      return statements.scan({ id: pass.id, at: e.data.at })
    },
  },
})

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

test('the README example runs as written on sqliteStore and the SQLite event log', async () => {
  const events = openSqliteEventStore({ path: path.join(dir, 'events.db') })
  const collector = createCollector({ events, store: sqliteStore({ dir: path.join(dir, 'projections') }) })
  collector.add(passView)
  await collector.start()
  try {
    const passes = createReader(collector, passView)
    await events.append('pass-p1', [{ type: 'PassIssued', data: { passId: 'p1', holder: 'Ada' } }])
    await events.append('pass-p1', [
      { type: 'PassScanned', data: { passId: 'p1', gate: 'g1', at: 10_000 } },
      { type: 'PassScanned', data: { passId: 'p1', gate: 'g1', at: 10_500 } }, // a double scan: ignored
      { type: 'PassScanned', data: { passId: 'p9', gate: 'g1', at: 11_000 } }, // unknown pass: ignored
    ])
    const { position } = await events.append('pass-p1', [
      { type: 'PassScanned', data: { passId: 'p1', gate: 'g2', at: 20_000 } },
    ])
    await collector.waitFor(position)
    const pass = await passes.selectFrom('passes').selectAll().where('id', '=', 'p1').executeTakeFirst()
    expect(pass).toEqual({ id: 'p1', holder: 'Ada', scans: 2, last_at: 20_000 })
    expect(passView.eventTypes).toEqual(['PassIssued', 'PassScanned'])
    expect(collector.status()[0]).toMatchObject({
      name: 'passes.pass_view',
      version: passView.version,
      position,
    })
  } finally {
    await collector.stop()
    await events.close()
  }
  // the view's file is where the design says, named after the view
  const { default: Database } = await import('better-sqlite3')
  const file = new Database(path.join(dir, 'projections', 'passes.pass_view.db'), { readonly: true })
  expect(file.prepare('select id, scans from passes').all()).toEqual([{ id: 'p1', scans: 2 }])
  file.close()
})

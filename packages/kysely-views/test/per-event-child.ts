// Run by no-code-generation.test.ts in a child process (Node's own type stripping, so it imports
// packages only): applies a per-event view to a fresh in-memory database and prints its rows.
import { defineView } from '@eskit/kysely-views'
import Database from 'better-sqlite3'

interface Tables {
  passes: { id: string; holder: string; scans: number; last_at: number | null }
}
type PassEvent =
  | { type: 'PassIssued'; data: { passId: string; holder: string } }
  | { type: 'PassScanned'; data: { passId: string; at: number } }

const view = defineView<Tables, PassEvent>({
  name: 'child.passes',
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
    PassIssued: (e, db) =>
      db
        .insertInto('passes')
        .values({ id: e.data.passId, holder: e.data.holder, scans: 0, last_at: null })
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder') }))),
    PassScanned: (e, db) =>
      db
        .updateTable('passes')
        .set((eb) => ({ scans: eb('scans', '+', 1), last_at: e.data.at }))
        .where('id', '=', e.data.passId),
  },
})

const events = Array.from({ length: 60 }, (_, i) => {
  const passId = `p${Math.floor(i / 3) % 7}`
  const base = { position: i + 1, streamId: `pass-${passId}`, streamVersion: 1, recordedAt: new Date(0) }
  return i % 3 === 0
    ? { ...base, type: 'PassIssued' as const, data: { passId, holder: `holder-${i}` } }
    : { ...base, type: 'PassScanned' as const, data: { passId, at: i * 1000 } }
})

const db = new Database(':memory:')
db.transaction(() => view.setup(db))()
db.transaction(() => view.apply(events, db))()
// Rows as arrays: better-sqlite3 itself generates code for its row objects.
const rows = db.prepare('select id, holder, scans, last_at from passes order by id').raw().all()
process.stdout.write(JSON.stringify(rows))

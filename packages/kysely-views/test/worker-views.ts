// Views a build worker thread imports by URL: this module is loaded by Node itself in the worker
// (type stripping), so it imports packages only, no relative `.js` paths.
import { defineView } from '@eskit/kysely-views'
import type { Kysely } from 'kysely'

interface PassTables {
  passes: { id: string; holder: string; scans: number; last_at: string | null }
}
interface TotalTables {
  totals: { bucket: string; scans: number }
}
interface RevokedTables {
  revoked: { id: string; position: number }
}
type WorkerEvent =
  | { type: 'PassIssued'; data: { passId: string; holder: string } }
  | { type: 'PassScanned'; data: { passId: string; at: string } }
  | { type: 'PassRevoked'; data: { passId: string } }

export const workerPassView = defineView<PassTables, WorkerEvent>({
  name: 'worker.passes',
  version: '1',
  module: import.meta.url,
  export: 'workerPassView',
  migrations: [
    (db: Kysely<any>) =>
      db.schema
        .createTable('passes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('scans', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_at', 'text'),
  ],
  on: {
    PassIssued: (e, db) =>
      db
        .insertInto('passes')
        .values({ id: e.data.passId, holder: e.data.holder, scans: 0 })
        .onConflict((oc) => oc.column('id').doUpdateSet({ holder: e.data.holder })),
    PassScanned: (e, db) =>
      db
        .updateTable('passes')
        .set((eb) => ({ scans: eb('scans', '+', 1), last_at: e.data.at }))
        .where('id', '=', e.data.passId),
  },
})

export const workerTotalsView = defineView<TotalTables, WorkerEvent>({
  name: 'worker.totals',
  version: '1',
  module: import.meta.url,
  export: 'workerTotalsView',
  migrations: [
    (db: Kysely<any>) =>
      db.schema
        .createTable('totals')
        .addColumn('bucket', 'text', (c) => c.primaryKey())
        .addColumn('scans', 'integer', (c) => c.notNull()),
  ],
  on: {
    PassScanned: (e, db) =>
      db
        .insertInto('totals')
        .values({ bucket: e.data.passId.slice(-1), scans: 1 })
        .onConflict((oc) => oc.column('bucket').doUpdateSet((eb) => ({ scans: eb('totals.scans', '+', 1) }))),
  },
})

/** Its handler throws on the pass `poison`: a failing apply, in a worker or not. */
export const workerRevokedView = defineView<RevokedTables, WorkerEvent>({
  name: 'worker.revoked',
  version: '1',
  module: import.meta.url,
  export: 'workerRevokedView',
  migrations: [
    (db: Kysely<any>) =>
      db.schema
        .createTable('revoked')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('position', 'integer', (c) => c.notNull()),
  ],
  on: {
    PassRevoked: (e, db) => {
      if (e.data.passId === 'poison') throw new Error('cannot revoke the poison pass')
      return db.insertInto('revoked').values({ id: e.data.passId, position: e.position })
    },
  },
})

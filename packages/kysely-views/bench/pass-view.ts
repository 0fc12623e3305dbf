/**
 * The reference workload's read model (DESIGN.md), shared by the package's two bench scripts:
 * its tables and events, the raw SQL, and the view in the recommended style (defineStatements)
 * and in the per-event style (a Kysely query built per event).
 */
import { defineStatements, defineView, type Params, type View } from '@eskit/kysely-views'
import type { Kysely } from 'kysely'

export interface Tables {
  passes: { id: string; holder: string; scans: number; last_at: number | null }
}

export type PassEvent =
  | { type: 'PassIssued'; data: { passId: string; holder: string } }
  | { type: 'PassScanned'; data: { passId: string; gate: string; at: number } }

export const DDL =
  'create table passes (id text primary key, holder text not null, scans integer default 0 not null, last_at integer)'
export const UPSERT =
  'insert into passes (id, holder, scans, last_at) values (?, ?, 0, null) on conflict (id) do update set holder = excluded.holder'
export const SCAN = 'update passes set scans = scans + 1, last_at = ? where id = ?'

const migrations = [
  (db: Kysely<any>) =>
    db.schema
      .createTable('passes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('scans', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_at', 'integer'),
]

const statements = defineStatements((db: Kysely<Tables>) => ({
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
}))

/** The pass view in the style the docs recommend: prepared statements, run synchronously. */
export function recommendedView(name: string): View<Tables> {
  return defineView<Tables, PassEvent>({
    name,
    version: '1',
    migrations,
    on: {
      PassIssued: (e) => statements.issue({ id: e.data.passId, holder: e.data.holder }),
      PassScanned: (e) => statements.scan({ id: e.data.passId, at: e.data.at }),
    },
  })
}

/** The pass view with one Kysely query built per event. */
export function perEventView(name: string): View<Tables> {
  return defineView<Tables, PassEvent>({
    name,
    version: '1',
    migrations,
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
}

import type { Projection, StoredEvent } from '@eskit/core'
import { defineStatements, defineView, type Params, type View } from '@eskit/kysely-views'
import type Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { passesDdl, scanSql, upsertSql } from './raw.ts'
import type { PassEvent } from './workload.ts'

/**
 * The reference view written four ways, each a projection eskit runs. `table` lets several copies
 * share one database (shared mode needs distinct table names); per-file they all use `passes`.
 */

interface PassTable {
  id: string
  holder: string
  scans: number
  last_at: number | null
}
/** The view's tables, keyed by whichever table name a copy uses. */
type Tables = Record<string, PassTable>

const migrationsFor = (table: string) => [
  (db: Kysely<any>) =>
    db.schema
      .createTable(table)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('scans', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_at', 'integer'),
]

/**
 * The style the kysely-views README recommends: statements defined once with `defineStatements`
 * (built with Kysely, compiled once), bound per event.
 */
export function recommendedView(
  name: string,
  table = 'passes',
  source?: { module: string; export: string },
): View<Tables> {
  const statements = defineStatements((db: Kysely<Tables>) => ({
    issue: (p: Params<{ id: string; holder: string }>) =>
      db
        .insertInto(table)
        .values({ id: p.id, holder: p.holder, scans: 0, last_at: null })
        .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder') }))),
    scan: (p: Params<{ id: string; at: number }>) =>
      db
        .updateTable(table)
        .set((eb) => ({ scans: eb('scans', '+', 1), last_at: p.at }))
        .where('id', '=', p.id),
  }))
  return defineView<Tables, PassEvent>({
    name,
    version: '1',
    ...(source ? { module: source.module, export: source.export } : {}),
    migrations: migrationsFor(table),
    on: {
      PassIssued: (e) => statements.issue({ id: e.data.passId, holder: e.data.holder }),
      PassScanned: (e) => statements.scan({ id: e.data.passId, at: e.data.at }),
    },
  })
}

/** The ergonomic per-event style: a Kysely query built (and compiled) per event. */
export function perEventView(name: string, table = 'passes'): View<Tables> {
  return defineView<Tables, PassEvent>({
    name,
    version: '1',
    migrations: migrationsFor(table),
    on: {
      PassIssued: (e, db) =>
        db
          .insertInto(table)
          .values({ id: e.data.passId, holder: e.data.holder, scans: 0, last_at: null })
          .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder') }))),
      PassScanned: (e, db) =>
        db
          .updateTable(table)
          .set((eb) => ({ scans: eb('scans', '+', 1), last_at: e.data.at }))
          .where('id', '=', e.data.passId),
    },
  })
}

/**
 * A hand-written projection on the store's better-sqlite3 connection: prepared statements, no
 * kysely-views. Shows the collector's and store's own cost apart from the view builder's.
 */
export function handWrittenProjection(name: string, table = 'passes'): Projection<Database.Database> {
  const prepared = new WeakMap<Database.Database, { upsert: Database.Statement; scan: Database.Statement }>()
  return {
    name,
    version: '1',
    eventTypes: ['PassIssued', 'PassScanned'],
    setup: (db) => {
      db.exec(passesDdl(table))
    },
    apply: (events, db) => {
      let statements = prepared.get(db)
      if (!statements) {
        statements = { upsert: db.prepare(upsertSql(table)), scan: db.prepare(scanSql(table)) }
        prepared.set(db, statements)
      }
      for (const event of events as readonly StoredEvent<PassEvent['type'], any>[]) {
        if (event.type === 'PassIssued') statements.upsert.run(event.data.passId, event.data.holder)
        else statements.scan.run(event.data.at, event.data.passId)
      }
    },
  }
}

/**
 * The naive way: Kysely's own `SqliteDialect` over the store's connection, one awaited query per
 * event (each built, compiled and run through Kysely's async driver).
 */
export function naiveKyselyProjection(name: string, table = 'passes'): Projection<Database.Database> {
  const clients = new WeakMap<Database.Database, Kysely<Tables>>()
  const client = (db: Database.Database) => {
    let kysely = clients.get(db)
    if (!kysely) {
      kysely = new Kysely<Tables>({ dialect: new SqliteDialect({ database: db }) })
      clients.set(db, kysely)
    }
    return kysely
  }
  return {
    name,
    version: '1',
    eventTypes: ['PassIssued', 'PassScanned'],
    setup: (db) => {
      db.exec(passesDdl(table))
    },
    apply: async (events, db) => {
      const kysely = client(db)
      for (const event of events as readonly StoredEvent<PassEvent['type'], any>[]) {
        if (event.type === 'PassIssued') {
          await kysely
            .insertInto(table)
            .values({ id: event.data.passId, holder: event.data.holder, scans: 0, last_at: null })
            .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder') })))
            .execute()
        } else {
          await kysely
            .updateTable(table)
            .set((eb) => ({ scans: eb('scans', '+', 1), last_at: event.data.at }))
            .where('id', '=', event.data.passId)
            .execute()
        }
      }
    },
  }
}

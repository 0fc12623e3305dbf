import path from 'node:path'
import type { StoredEvent } from '@eskit/core'
import { tempDir } from '@eskit/test-kit'
import Database from 'better-sqlite3'
import type { Kysely } from 'kysely'
import { defineStatements, defineView, type Params } from '../src/index.js'

/** The pass view's tables (DESIGN.md reference workload). */
export interface PassTables {
  passes: { id: string; holder: string; scans: number; last_at: string | null }
}

/** The application's event union. */
export type PassEvent =
  | { type: 'PassIssued'; data: { passId: string; holder: string } }
  | { type: 'PassScanned'; data: { passId: string; at: string } }
  | { type: 'PassRevoked'; data: { passId: string } }

export const passMigrations = [
  (db: Kysely<any>) =>
    db.schema
      .createTable('passes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('scans', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_at', 'text'),
]

/** The pass view in the per-event style: a Kysely query built per event. */
export function perEventPassView(name = 'passes.per_event') {
  return defineView<PassTables, PassEvent>({
    name,
    version: '1',
    migrations: passMigrations,
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
}

/** The pass view's statements, compiled once. */
export const passStatements = defineStatements((db: Kysely<PassTables>) => ({
  issue: (p: Params<{ id: string; holder: string }>) =>
    db
      .insertInto('passes')
      .values({ id: p.id, holder: p.holder, scans: 0 })
      .onConflict((oc) => oc.column('id').doUpdateSet({ holder: p.holder })),
  scan: (p: Params<{ id: string; at: string }>) =>
    db
      .updateTable('passes')
      .set((eb) => ({ scans: eb('scans', '+', 1), last_at: p.at }))
      .where('id', '=', p.id),
  find: (p: Params<{ id: string }>) => db.selectFrom('passes').selectAll().where('id', '=', p.id),
}))

/** The pass view in the recommended style: statements compiled once, bound per event. */
export function statementPassView(name = 'passes.statements') {
  return defineView<PassTables, PassEvent>({
    name,
    version: '1',
    migrations: passMigrations,
    on: {
      PassIssued: (e) => passStatements.issue({ id: e.data.passId, holder: e.data.holder }),
      PassScanned: (e) => passStatements.scan({ id: e.data.passId, at: e.data.at }),
    },
  })
}

let position = 0

/** A stored event with the next position (positions only need to increase within a test). */
export function stored<E extends PassEvent>(
  event: E,
  streamId = `pass-${(event.data as { passId: string }).passId}`,
) {
  position++
  return { ...event, position, streamId, streamVersion: 1, recordedAt: new Date(0) } as StoredEvent<
    E['type'],
    E['data']
  >
}

/** `count` events of the reference workload's shape over `streams` passes. */
export function workload(count: number, streams: number): StoredEvent[] {
  const events: StoredEvent[] = []
  for (let index = 0; index < count; index++) {
    const group = Math.floor(index / 3)
    const passId = `p${group % streams}`
    events.push(
      index % 3 === 0
        ? stored({ type: 'PassIssued', data: { passId, holder: `holder-${group}` } })
        : stored({ type: 'PassScanned', data: { passId, at: `t${index}` } }),
    )
  }
  return events
}

/** The rows the pass view must hold after `events`, computed in plain JavaScript. */
export function expectedPasses(events: readonly StoredEvent[]): PassTables['passes'][] {
  const rows = new Map<string, PassTables['passes']>()
  for (const event of events) {
    if (event.type === 'PassIssued') {
      const data = event.data as { passId: string; holder: string }
      const row = rows.get(data.passId)
      if (row) row.holder = data.holder
      else rows.set(data.passId, { id: data.passId, holder: data.holder, scans: 0, last_at: null })
    } else if (event.type === 'PassScanned') {
      const data = event.data as { passId: string; at: string }
      const row = rows.get(data.passId)
      if (row) {
        row.scans++
        row.last_at = data.at
      }
    }
  }
  return [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

export { tempDir }

/** A better-sqlite3 database on a file in a temporary directory. */
export function tempDatabase(): { db: Database.Database; file: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir()
  const file = path.join(dir, 'view.db')
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  return {
    db,
    file,
    cleanup: () => {
      if (db.open) db.close()
      cleanup()
    },
  }
}

/** All rows of `passes`, ordered by id. */
export function passRows(db: Database.Database): PassTables['passes'][] {
  return db
    .prepare('select id, holder, scans, last_at from passes order by id')
    .all() as PassTables['passes'][]
}

/** Names of the user tables in `db`. */
export function tableNames(db: Database.Database): string[] {
  return (
    db.prepare("select name from sqlite_master where type = 'table' order by name").all() as {
      name: string
    }[]
  ).map((row) => row.name)
}

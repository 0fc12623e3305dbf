import type { ProjectionSource } from '@eskit/core'
import { defineStatements, defineView, type Params, type View } from '@eskit/kysely-views'
import type { Kysely } from 'kysely'
import type { YoyoEvent } from '../events.ts'

/** The tables of `services.service_list`. */
export interface ServiceListTables {
  services: {
    id: string
    name: string
    /** JSON array of gate names. */
    gates: string
    created_at: string
    passes_issued: number
    passes_active: number
    scans: number
  }
}

// Compiled once; handlers only bind values (the fast style kysely-views recommends).
const statements = defineStatements((db: Kysely<ServiceListTables>) => ({
  create: (p: Params<{ id: string; name: string; gates: string; at: string }>) =>
    db
      .insertInto('services')
      .values({
        id: p.id,
        name: p.name,
        gates: p.gates,
        created_at: p.at,
        passes_issued: 0,
        passes_active: 0,
        scans: 0,
      })
      .onConflict((oc) => oc.column('id').doNothing()),
  issued: (p: Params<{ id: string }>) =>
    db
      .updateTable('services')
      .set((eb) => ({
        passes_issued: eb('passes_issued', '+', 1),
        passes_active: eb('passes_active', '+', 1),
      }))
      .where('id', '=', p.id),
  revoked: (p: Params<{ id: string }>) =>
    db
      .updateTable('services')
      .set((eb) => ({ passes_active: eb('passes_active', '-', 1) }))
      .where('id', '=', p.id),
  scanned: (p: Params<{ id: string }>) =>
    db
      .updateTable('services')
      .set((eb) => ({ scans: eb('scans', '+', 1) }))
      .where('id', '=', p.id),
}))

/**
 * `services.service_list`: every service with its gates and running counts of passes and scans.
 * `source` names the module and export a build worker thread imports it from (`createViews`
 * sets it to `src/worker-views.ts`).
 *
 * @example
 * ```ts
 * const view = createServiceListView('1')
 * collector.add(view)
 * await createReader(collector, view).selectFrom('services').selectAll().execute()
 * ```
 */
export function createServiceListView(version = '1', source?: ProjectionSource): View<ServiceListTables> {
  return defineView<ServiceListTables, YoyoEvent>({
    ...(source === undefined ? {} : { module: source.module, export: source.export }),
    name: 'services.service_list',
    version,
    migrations: [
      (db) =>
        db.schema
          .createTable('services')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('gates', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('passes_issued', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('passes_active', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('scans', 'integer', (c) => c.notNull().defaultTo(0)),
    ],
    on: {
      ServiceCreated: (e) =>
        statements.create({
          id: e.data.serviceId,
          name: e.data.name,
          gates: JSON.stringify(e.data.gates),
          at: e.data.at,
        }),
      PassIssued: (e) => statements.issued({ id: e.data.serviceId }),
      PassRevoked: (e) => statements.revoked({ id: e.data.serviceId }),
      PassScanned: (e) => statements.scanned({ id: e.data.serviceId }),
    },
  })
}

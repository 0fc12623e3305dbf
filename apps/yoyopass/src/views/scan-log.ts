import type { ProjectionSource } from '@eskit/core'
import { defineStatements, defineView, type Params, type View } from '@eskit/kysely-views'
import type { Kysely } from 'kysely'
import type { YoyoEvent } from '../events.ts'

/** The tables of `scanning.scan_log`. */
export interface ScanLogTables {
  scans: {
    /** The event's log position: unique, and orders scans as they were recorded. */
    position: number
    pass_id: string
    service_id: string
    gate: string
    at: string
    result: 'accepted' | 'denied'
    reason: string | null
  }
}

const statements = defineStatements((db: Kysely<ScanLogTables>) => ({
  record: (
    p: Params<{
      position: number
      passId: string
      serviceId: string
      gate: string
      at: string
      result: 'accepted' | 'denied'
      reason: string | null
    }>,
  ) =>
    db
      .insertInto('scans')
      .values({
        position: p.position,
        pass_id: p.passId,
        service_id: p.serviceId,
        gate: p.gate,
        at: p.at,
        result: p.result,
        reason: p.reason,
      })
      .onConflict((oc) => oc.column('position').doNothing()),
}))

/**
 * `scanning.scan_log`: every scan, newest last, searchable by pass and by service.
 * `source` names the module and export a build worker thread imports it from (`createViews`
 * sets it to `src/worker-views.ts`).
 *
 * @example
 * ```ts
 * const view = createScanLogView('1')
 * await createReader(collector, view).selectFrom('scans').selectAll().where('pass_id', '=', 'p-1').execute()
 * ```
 */
export function createScanLogView(version = '1', source?: ProjectionSource): View<ScanLogTables> {
  return defineView<ScanLogTables, YoyoEvent>({
    ...(source === undefined ? {} : { module: source.module, export: source.export }),
    name: 'scanning.scan_log',
    version,
    migrations: [
      (db) =>
        db.schema
          .createTable('scans')
          .addColumn('position', 'integer', (c) => c.primaryKey())
          .addColumn('pass_id', 'text', (c) => c.notNull())
          .addColumn('service_id', 'text', (c) => c.notNull())
          .addColumn('gate', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('result', 'text', (c) => c.notNull())
          .addColumn('reason', 'text'),
      (db) => db.schema.createIndex('scans_by_pass').on('scans').columns(['pass_id', 'position']),
      (db) => db.schema.createIndex('scans_by_service').on('scans').columns(['service_id', 'position']),
    ],
    on: {
      PassScanned: (e) =>
        statements.record({
          position: e.position,
          passId: e.data.passId,
          serviceId: e.data.serviceId,
          gate: e.data.gate,
          at: e.data.at,
          result: e.data.result,
          reason: e.data.reason ?? null,
        }),
    },
  })
}

import type { ProjectionSource } from '@eskit/core'
import { defineStatements, defineView, type Params, type View } from '@eskit/kysely-views'
import type { Kysely } from 'kysely'
import type { YoyoEvent } from '../events.ts'

/** The tables of `passes.pass_view`. */
export interface PassViewTables {
  passes: {
    id: string
    service_id: string
    holder: string
    status: 'active' | 'revoked'
    issued_at: string
    valid_until: string
    revoked_at: string | null
    revoke_reason: string | null
    scans: number
    denied_scans: number
    last_scan_at: string | null
    last_gate: string | null
  }
}

const statements = defineStatements((db: Kysely<PassViewTables>) => ({
  issue: (p: Params<{ id: string; serviceId: string; holder: string; validUntil: string; at: string }>) =>
    db
      .insertInto('passes')
      .values({
        id: p.id,
        service_id: p.serviceId,
        holder: p.holder,
        status: 'active',
        issued_at: p.at,
        valid_until: p.validUntil,
        scans: 0,
        denied_scans: 0,
      })
      .onConflict((oc) => oc.column('id').doNothing()),
  revoke: (p: Params<{ id: string; reason: string; at: string }>) =>
    db
      .updateTable('passes')
      .set({ status: 'revoked', revoked_at: p.at, revoke_reason: p.reason })
      .where('id', '=', p.id),
  accepted: (p: Params<{ id: string; gate: string; at: string }>) =>
    db
      .updateTable('passes')
      .set((eb) => ({ scans: eb('scans', '+', 1), last_scan_at: p.at, last_gate: p.gate }))
      .where('id', '=', p.id),
  denied: (p: Params<{ id: string; gate: string; at: string }>) =>
    db
      .updateTable('passes')
      .set((eb) => ({ denied_scans: eb('denied_scans', '+', 1), last_scan_at: p.at, last_gate: p.gate }))
      .where('id', '=', p.id),
}))

/**
 * `passes.pass_view`: one row per pass with its holder, status and scan counts.
 * `source` names the module and export a build worker thread imports it from (`createViews`
 * sets it to `src/worker-views.ts`).
 *
 * @example
 * ```ts
 * const view = createPassView('1')
 * const pass = await createReader(collector, view).selectFrom('passes').selectAll()
 *   .where('id', '=', 'p-1').executeTakeFirst()
 * ```
 */
export function createPassView(version = '1', source?: ProjectionSource): View<PassViewTables> {
  return defineView<PassViewTables, YoyoEvent>({
    ...(source === undefined ? {} : { module: source.module, export: source.export }),
    name: 'passes.pass_view',
    version,
    migrations: [
      (db) =>
        db.schema
          .createTable('passes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('service_id', 'text', (c) => c.notNull())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('issued_at', 'text', (c) => c.notNull())
          .addColumn('valid_until', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .addColumn('revoke_reason', 'text')
          .addColumn('scans', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('denied_scans', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_scan_at', 'text')
          .addColumn('last_gate', 'text'),
      (db) => db.schema.createIndex('passes_by_service').on('passes').columns(['service_id', 'id']),
      (db) => db.schema.createIndex('passes_by_holder').on('passes').columns(['holder', 'id']),
    ],
    on: {
      PassIssued: (e) =>
        statements.issue({
          id: e.data.passId,
          serviceId: e.data.serviceId,
          holder: e.data.holder,
          validUntil: e.data.validUntil,
          at: e.data.at,
        }),
      PassRevoked: (e) => statements.revoke({ id: e.data.passId, reason: e.data.reason, at: e.data.at }),
      PassScanned: (e) => {
        const values = { id: e.data.passId, gate: e.data.gate, at: e.data.at }
        return e.data.result === 'accepted' ? statements.accepted(values) : statements.denied(values)
      },
    },
  })
}

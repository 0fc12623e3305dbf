import type { ProjectionSource } from '@eskit/core'
import { defineStatements, defineView, type Params, type View } from '@eskit/kysely-views'
import type { Kysely } from 'kysely'
import type { YoyoEvent } from '../events.ts'

/** The tables of `scanning.daily_stats`. */
export interface DailyStatsTables {
  daily_stats: {
    /** UTC day, `YYYY-MM-DD`. */
    day: string
    service_id: string
    issued: number
    scans: number
    accepted: number
    denied: number
    /** Distinct passes scanned that day. */
    unique_passes: number
  }
  /** Which passes were scanned on a day: what makes `unique_passes` incremental. */
  daily_passes: { day: string; service_id: string; pass_id: string }
}

const statements = defineStatements((db: Kysely<DailyStatsTables>) => ({
  issued: (p: Params<{ day: string; serviceId: string }>) =>
    db
      .insertInto('daily_stats')
      .values({
        day: p.day,
        service_id: p.serviceId,
        issued: 1,
        scans: 0,
        accepted: 0,
        denied: 0,
        unique_passes: 0,
      })
      .onConflict((oc) =>
        oc.columns(['day', 'service_id']).doUpdateSet((eb) => ({ issued: eb('daily_stats.issued', '+', 1) })),
      ),
  markPass: (p: Params<{ day: string; serviceId: string; passId: string }>) =>
    db
      .insertInto('daily_passes')
      .values({ day: p.day, service_id: p.serviceId, pass_id: p.passId })
      .onConflict((oc) => oc.doNothing()),
  scanned: (
    p: Params<{ day: string; serviceId: string; accepted: number; denied: number; firstOfDay: number }>,
  ) =>
    db
      .insertInto('daily_stats')
      .values({
        day: p.day,
        service_id: p.serviceId,
        issued: 0,
        scans: 1,
        accepted: p.accepted,
        denied: p.denied,
        unique_passes: p.firstOfDay,
      })
      .onConflict((oc) =>
        oc.columns(['day', 'service_id']).doUpdateSet((eb) => ({
          scans: eb('daily_stats.scans', '+', 1),
          accepted: eb('daily_stats.accepted', '+', eb.ref('excluded.accepted')),
          denied: eb('daily_stats.denied', '+', eb.ref('excluded.denied')),
          unique_passes: eb('daily_stats.unique_passes', '+', eb.ref('excluded.unique_passes')),
        })),
      ),
}))

/**
 * `scanning.daily_stats`: an aggregate per UTC day and service — passes issued, scans accepted
 * and denied, distinct passes scanned.
 * `source` names the module and export a build worker thread imports it from (`createViews`
 * sets it to `src/worker-views.ts`).
 *
 * @example
 * ```ts
 * const view = createDailyStatsView('1')
 * await createReader(collector, view).selectFrom('daily_stats').selectAll().orderBy('day').execute()
 * ```
 */
export function createDailyStatsView(version = '1', source?: ProjectionSource): View<DailyStatsTables> {
  return defineView<DailyStatsTables, YoyoEvent>({
    ...(source === undefined ? {} : { module: source.module, export: source.export }),
    name: 'scanning.daily_stats',
    version,
    migrations: [
      (db) =>
        db.schema
          .createTable('daily_stats')
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('service_id', 'text', (c) => c.notNull())
          .addColumn('issued', 'integer', (c) => c.notNull())
          .addColumn('scans', 'integer', (c) => c.notNull())
          .addColumn('accepted', 'integer', (c) => c.notNull())
          .addColumn('denied', 'integer', (c) => c.notNull())
          .addColumn('unique_passes', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('daily_stats_pk', ['day', 'service_id']),
      (db) =>
        db.schema
          .createTable('daily_passes')
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('service_id', 'text', (c) => c.notNull())
          .addColumn('pass_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('daily_passes_pk', ['day', 'service_id', 'pass_id']),
    ],
    on: {
      PassIssued: (e) => statements.issued({ day: e.data.at.slice(0, 10), serviceId: e.data.serviceId }),
      PassScanned: (e, _db, tx) => {
        const day = e.data.at.slice(0, 10)
        const serviceId = e.data.serviceId
        // The insert-or-ignore tells, in the same transaction, whether this pass is new today.
        const { changes } = tx.run(statements.markPass({ day, serviceId, passId: e.data.passId }))
        const accepted = e.data.result === 'accepted' ? 1 : 0
        return statements.scanned({ day, serviceId, accepted, denied: 1 - accepted, firstOfDay: changes })
      },
    },
  })
}

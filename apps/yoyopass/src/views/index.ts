import type { View } from '@eskit/kysely-views'
import { createDailyStatsView, type DailyStatsTables } from './daily-stats.ts'
import { createPassView, type PassViewTables } from './pass-view.ts'
import { createScanLogView, type ScanLogTables } from './scan-log.ts'
import { createServiceListView, type ServiceListTables } from './service-list.ts'
import { workerViewsModule } from './worker-module.ts'

export type { DailyStatsTables } from './daily-stats.ts'
export type { PassViewTables } from './pass-view.ts'
export type { ScanLogTables } from './scan-log.ts'
export type { ServiceListTables } from './service-list.ts'

/**
 * The names of yoyopass's projections (also their file names under `projections/`).
 *
 * @example
 * ```ts
 * for (const name of VIEW_NAMES) console.log(`${name}.db`)
 * ```
 */
export const VIEW_NAMES = [
  'services.service_list',
  'passes.pass_view',
  'scanning.scan_log',
  'scanning.daily_stats',
] as const

/** One of {@link VIEW_NAMES}. */
export type ViewName = (typeof VIEW_NAMES)[number]

/** The yoyopass projections, one per {@link ViewName}. */
export interface YoyoViews {
  serviceList: View<ServiceListTables>
  passView: View<PassViewTables>
  scanLog: View<ScanLogTables>
  dailyStats: View<DailyStatsTables>
  /** All four, in registration order. */
  all: readonly View<any>[]
}

/**
 * Builds the four views. `versions` overrides a view's version (default `'1'`): what a deploy
 * does when a view's logic changes, and how the e2e tests force a one-projection rebuild. Each
 * view's `source` names its export of `src/worker-views.ts` (`dist/worker-views.mjs` when built),
 * so the collector can build it in a worker thread.
 *
 * @example
 * ```ts
 * const views = createViews({ 'passes.pass_view': '2' })
 * for (const view of views.all) collector.add(view)
 * ```
 */
export function createViews(versions: Partial<Record<ViewName, string>> = {}): YoyoViews {
  // each view names its export of the worker module, whose URL carries these versions
  const module = workerViewsModule(versions)
  const serviceList = createServiceListView(versions['services.service_list'], {
    module,
    export: 'serviceList',
  })
  const passView = createPassView(versions['passes.pass_view'], { module, export: 'passView' })
  const scanLog = createScanLogView(versions['scanning.scan_log'], { module, export: 'scanLog' })
  const dailyStats = createDailyStatsView(versions['scanning.daily_stats'], { module, export: 'dailyStats' })
  return { serviceList, passView, scanLog, dailyStats, all: [serviceList, passView, scanLog, dailyStats] }
}

/**
 * True when `name` is one of yoyopass's projection names.
 *
 * @example
 * ```ts
 * isViewName('passes.pass_view') // true
 * ```
 */
export function isViewName(name: string): name is ViewName {
  return (VIEW_NAMES as readonly string[]).includes(name)
}

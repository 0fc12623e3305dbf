// The module build worker threads import yoyopass's views from (its own tsdown entry,
// dist/worker-views.mjs). It has no side effects, unlike dist/main.mjs, which runs the CLI. The
// version overrides come from this module's URL, which createViews wrote into each view's source.
import { createViews } from './views/index.ts'
import { versionsOf } from './views/worker-module.ts'

const views = createViews(versionsOf(import.meta.url))

/**
 * `services.service_list`, as a build worker thread loads it.
 *
 * @example
 * ```ts
 * const { serviceList } = await import(workerViewsModule({}))
 * ```
 */
export const serviceList = views.serviceList

/**
 * `passes.pass_view`, as a build worker thread loads it.
 *
 * @example
 * ```ts
 * const { passView } = await import(workerViewsModule({ 'passes.pass_view': '2' }))
 * ```
 */
export const passView = views.passView

/**
 * `scanning.scan_log`, as a build worker thread loads it.
 *
 * @example
 * ```ts
 * const { scanLog } = await import(workerViewsModule({}))
 * ```
 */
export const scanLog = views.scanLog

/**
 * `scanning.daily_stats`, as a build worker thread loads it.
 *
 * @example
 * ```ts
 * const { dailyStats } = await import(workerViewsModule({}))
 * ```
 */
export const dailyStats = views.dailyStats

// Build worker threads import the views from src/worker-views.ts, which tsdown emits as an entry
// of its own, dist/worker-views.mjs, beside the flat chunks this file is bundled into. Whether this
// runs as a .ts file (vitest, Node's type stripping) or from a .mjs chunk tells which one it is.
const here = import.meta.url
const fromSource = new URL(here).pathname.endsWith('.ts')

/**
 * The URL of the module build worker threads import yoyopass's views from, with no version
 * overrides: `src/worker-views.ts` when run from the sources, `dist/worker-views.mjs` when built.
 *
 * @example
 * ```ts
 * await import(WORKER_VIEWS_MODULE) // { serviceList, passView, scanLog, dailyStats }
 * ```
 */
export const WORKER_VIEWS_MODULE = new URL(fromSource ? '../worker-views.ts' : './worker-views.mjs', here)
  .href

/**
 * The worker module's URL for these view versions: the overrides ride in its query
 * (`?passes.pass_view=2`), so a worker thread builds the same version as the main thread (a
 * module is loaded once per URL, query included).
 *
 * @example
 * ```ts
 * workerViewsModule({ 'passes.pass_view': '2' }) // 'file:///…/worker-views.mjs?passes.pass_view=2'
 * ```
 */
export function workerViewsModule(versions: Readonly<Record<string, string | undefined>>): string {
  const query = new URLSearchParams()
  for (const name of Object.keys(versions).sort()) {
    const version = versions[name]
    if (version !== undefined) query.set(name, version)
  }
  const url = new URL(WORKER_VIEWS_MODULE)
  url.search = query.toString()
  return url.href
}

/**
 * The version overrides a worker module's URL carries: the inverse of {@link workerViewsModule}.
 *
 * @example
 * ```ts
 * versionsOf('file:///app/dist/worker-views.mjs?passes.pass_view=2') // { 'passes.pass_view': '2' }
 * ```
 */
export function versionsOf(moduleUrl: string): Record<string, string> {
  return Object.fromEntries(new URL(moduleUrl).searchParams)
}

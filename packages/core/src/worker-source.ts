/**
 * How a worker thread reopens something the main thread holds (the event log, a build): the URL
 * of a module, the name of the function it exports, and the plain (structured-clonable) options
 * to call it with. Part of the optional worker-build protocol; a store without it builds on the
 * main thread.
 *
 * @example
 * ```ts
 * const source: WorkerSource = {
 *   module: 'file:///app/node_modules/@eskit/sqlite-event-store/dist/index.mjs',
 *   export: 'openSqliteEventStore',
 *   options: { path: '/app/data/events.db', readonly: true },
 * }
 * ```
 */
export interface WorkerSource {
  /** A `file:` URL (or any specifier `import()` resolves from the worker). */
  readonly module: string
  /** The exported function; it is called with `options` (a build's also with the projection). */
  readonly export: string
  readonly options?: unknown
}

/**
 * Where a projection's code comes from, so a worker thread can import it: the module URL (pass
 * `import.meta.url` of the module that defines it) and the name of the export holding it.
 *
 * @example
 * ```ts
 * export const passCount: Projection = { ...definition, source: { module: import.meta.url, export: 'passCount' } }
 * ```
 */
export interface ProjectionSource {
  readonly module: string
  readonly export: string
}

import os from 'node:os'
import {
  type Collector,
  createCollector,
  type EventStore,
  type Logger,
  type ProjectionStore,
} from '@eskit/core'
import { createDashboard, type Dashboard } from '@eskit/dashboard'
import type { NodeRegistry } from '@eskit/postgres-event-store'
import { sharedStore } from '@eskit/shared-store'
import { sqliteStore } from '@eskit/sqlite-store'
import type { Hono } from 'hono'
import { dataPaths, type StoreKind, type YoyopassConfig } from './config.ts'
import { createConsoleLogger } from './console-logger.ts'
import { openEventLog } from './event-log.ts'
import { createHttpApp } from './http-app.ts'
import { createViews, type YoyoViews } from './views/index.ts'

/** What {@link createApp} returns: the HTTP app and the parts behind it. */
export interface YoyopassApp {
  app: Hono
  collector: Collector
  events: EventStore
  views: YoyoViews
  /** The operator dashboard mounted at `/eskit` (rebuild button with `dashboardToken`). */
  dashboard: Dashboard
  /** Stops the collector (finishing its batch in flight) and closes every file. Idempotent. */
  close(): Promise<void>
}

/**
 * The storage strategy, in one line per choice: one SQLite file per projection, or all
 * projections in one shared database.
 *
 * @example
 * ```ts
 * const store = projectionStore('files', 'data')
 * ```
 */
export function projectionStore(kind: StoreKind, dataDir: string): ProjectionStore<any> {
  const paths = dataPaths(dataDir)
  return kind === 'files' ? sqliteStore({ dir: paths.projections }) : sharedStore({ path: paths.shared })
}

/**
 * Wires yoyopass: opens the event log (`DATA/events.db`, or PostgreSQL with `events`) and the
 * projection store, adds the four
 * views, starts the collector (existing projections serve at once; catch-up and rebuilds go on
 * in the background) and builds the HTTP app, with the operator dashboard at `/eskit`.
 *
 * @example
 * ```ts
 * const { app, close } = await createApp(resolveConfig({ data: dir, store: 'files' }))
 * const res = await app.request('/projections')
 * await close()
 * ```
 */
export async function createApp(
  config: Pick<YoyopassConfig, 'store' | 'dataDir'> & Partial<YoyopassConfig> & { logger?: Logger },
): Promise<YoyopassApp> {
  const logger = config.logger ?? createConsoleLogger(config.logLevel ?? 'info')
  const views = createViews(config.viewVersions ?? {})
  const events = await openEventLog(config.events ?? { kind: 'sqlite' }, config.dataDir, logger)
  let collector: Collector
  try {
    collector = createCollector({
      events,
      store: projectionStore(config.store, config.dataDir),
      logger,
      ...(config.buildWorkers === undefined ? {} : { buildWorkers: config.buildWorkers }),
    })
    for (const view of views.all) collector.add(view)
    await collector.start()
  } catch (error) {
    await events.close()
    throw error
  }
  // with a shared PostgreSQL log every node publishes its status there, and each node's
  // dashboard shows them all side by side
  const eventLog = config.events ?? { kind: 'sqlite' }
  let registry: NodeRegistry | undefined
  if (eventLog.kind === 'postgres') {
    const { createNodeRegistry } = await import('@eskit/postgres-event-store')
    registry = createNodeRegistry({
      connectionString: eventLog.connectionString,
      nodeId: config.nodeId ?? `${os.hostname()}-${process.pid}`,
      logger,
    })
    registry.follow(collector)
  }
  const dashboard = createDashboard({
    collector,
    basePath: '/eskit',
    title: 'yoyopass',
    logger,
    ...(config.dashboardToken === undefined ? {} : { token: config.dashboardToken }),
    ...(registry === undefined ? {} : { nodes: registry }),
  })
  const app = createHttpApp({
    events,
    collector,
    views,
    logger,
    dashboard,
    ...(config.bodyLimitBytes === undefined ? {} : { bodyLimitBytes: config.bodyLimitBytes }),
    ...(config.waitTimeoutMs === undefined ? {} : { waitTimeoutMs: config.waitTimeoutMs }),
  })
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      dashboard.close()
      await registry?.close()
      try {
        await collector.stop()
      } finally {
        await events.close()
      }
    })()
    return closing
  }
  return { app, collector, events, views, dashboard, close }
}

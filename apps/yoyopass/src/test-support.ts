import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Collector, createCollector, type EventStore, silentLogger } from '@eskit/core'
import { sharedStore } from '@eskit/shared-store'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import type { Hono } from 'hono'
import { createHttpApp } from './http-app.ts'
import { createViews, type YoyoViews } from './views/index.ts'

/** An in-process yoyopass on real SQLite files in a temp dir (shared store), for unit tests. */
export interface TestApp {
  dir: string
  app: Hono
  events: EventStore
  collector: Collector
  views: YoyoViews
  /** JSON request helper: returns status, parsed body and headers. */
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>
  dispose(): Promise<void>
}

/** What {@link TestApp.call} returns. */
export interface TestResponse {
  status: number
  body: any
  headers: Headers
}

/**
 * Starts an in-process app for tests; `dispose()` stops it and removes the temp dir.
 *
 * @example
 * ```ts
 * const t = await startTestApp()
 * const res = await t.call('GET', '/health')
 * await t.dispose()
 * ```
 */
export async function startTestApp(
  options: { bodyLimitBytes?: number; waitTimeoutMs?: number } = {},
): Promise<TestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
  const events = openSqliteEventStore({ path: path.join(dir, 'events.db') })
  const collector = createCollector({
    events,
    store: sharedStore({ path: path.join(dir, 'shared.db') }),
    logger: silentLogger,
  })
  const views = createViews()
  for (const view of views.all) collector.add(view)
  await collector.start()
  const app = createHttpApp({ events, collector, views, logger: silentLogger, ...options })
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      init.headers = { 'content-type': 'application/json', ...headers }
    }
    const res = await app.request(url, init)
    const text = await res.text()
    return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined, headers: res.headers }
  }
  return {
    dir,
    app,
    events,
    collector,
    views,
    call,
    async dispose() {
      await collector.stop()
      await events.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

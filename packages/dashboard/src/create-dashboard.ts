import { type Collector, EskitError, isValidProjectionName, type Logger, silentLogger } from '@eskit/core'
import { metricsFor } from './create-metrics-handler.js'
import type { DashboardSource } from './dashboard-source.js'
import { eventStreamResponse } from './event-stream.js'
import { errorResponse, failure, json, methodNotAllowed, SECURITY_HEADERS } from './http-answers.js'
import { loadPage } from './page-assets.js'
import { resolveSource } from './resolve-source.js'
import { createStatusMonitor, type MonitorSample, messageOf } from './status-monitor.js'
import { checkWrite } from './write-guard.js'

/**
 * Options of {@link createDashboard}: a `collector` (with an optional `token` for the rebuild
 * button) or a read-only `source`.
 *
 * @example
 * ```ts
 * const options: DashboardOptions = { collector, token: process.env.ESKIT_DASHBOARD_TOKEN, basePath: '/eskit' }
 * ```
 */
export interface DashboardOptions {
  /** The collector of this process. Give this or `source`. */
  collector?: Collector
  /** A read-only source (e.g. what a directory's owner publishes). Give this or `collector`. */
  source?: DashboardSource
  /**
   * The operator token that enables the rebuild button (`Authorization: Bearer {token}`), at
   * least 16 characters. Without it the dashboard is read-only. Only with `collector`.
   */
  token?: string
  /** Where the dashboard is mounted, e.g. `'/eskit'`; requests outside it get 404. Default `''` (the root). */
  basePath?: string
  /** The page's heading. Default `'eskit'`. */
  title?: string
  /** Origins besides the request's own that may send write requests (a reverse proxy's public origin). */
  allowedOrigins?: readonly string[]
  /** Rebuild requests and refusals are logged here (never the token). */
  logger?: Logger
  /** How often the status is sampled for the page and the throughput. Default 1000 ms. */
  sampleIntervalMs?: number
  /** How much throughput history the page charts. Default 10 minutes. */
  throughputWindowMs?: number
}

/**
 * A web-standard request handler serving the dashboard page, its live data and `/metrics`.
 *
 * @example
 * ```ts
 * const dashboard: Dashboard = createDashboard({ collector })
 * const response = await dashboard(new Request('http://localhost/metrics'))
 * dashboard.close()
 * ```
 */
export interface Dashboard {
  (request: Request): Promise<Response>
  /** The `/metrics` endpoint alone, for mounting elsewhere (e.g. an internal port). */
  metrics(request: Request): Promise<Response>
  /** Stops sampling and ends the open live streams. The collector is not touched. */
  close(): void
}

const MIN_TOKEN_LENGTH = 16
const NAME_ROUTE = /^\/api\/projections\/([^/]+)\/(parked|rebuild)$/

function normaliseBasePath(basePath: string | undefined): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return ''
  if (typeof basePath !== 'string' || !basePath.startsWith('/') || /[?#]/.test(basePath)) {
    throw new EskitError('INVALID_ARGUMENT', 'createDashboard: basePath must be a path such as "/eskit"')
  }
  return basePath.replace(/\/+$/, '')
}

/**
 * The operator's dashboard (behaviour 21) as a web-standard handler `(request) => Promise<Response>`,
 * to mount in any server (Hono, Node's `http` through {@link toNodeHandler}). It serves, under
 * `basePath`: `/` the page (every projection's state, position, lag, rebuild progress, throughput,
 * errors and parked events, live over server-sent events), `/api/state`, `/api/events`,
 * `/api/projections/{name}/parked`, `/metrics` (Prometheus), and with a `token`
 * `POST /api/projections/{name}/rebuild` (`Authorization: Bearer {token}`; 401 without it, 403
 * from another origin; 403 when no token is configured). Throws `INVALID_ARGUMENT` for bad options.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * const dashboard = createDashboard({ collector, token: process.env.ESKIT_DASHBOARD_TOKEN, basePath: '/eskit' })
 * const app = new Hono()
 * app.all('/eskit', (c) => dashboard(c.req.raw))
 * app.all('/eskit/*', (c) => dashboard(c.req.raw))
 * ```
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  if (typeof options !== 'object' || options === null) {
    throw new EskitError('INVALID_ARGUMENT', 'createDashboard: options must be an object')
  }
  const source = resolveSource(options, 'createDashboard')
  const { collector } = options
  const token = options.token === '' ? undefined : options.token
  if (token !== undefined) {
    if (collector === undefined) {
      throw new EskitError(
        'INVALID_ARGUMENT',
        'createDashboard: a token needs a collector (a source is read-only)',
      )
    }
    if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      // the message never repeats the token itself
      throw new EskitError(
        'INVALID_ARGUMENT',
        `createDashboard: token must be at least ${MIN_TOKEN_LENGTH} characters with no spaces`,
      )
    }
  }
  const basePath = normaliseBasePath(options.basePath)
  const title = options.title ?? 'eskit'
  const logger = options.logger ?? silentLogger
  const allowedOrigins = options.allowedOrigins ?? []
  const writable = token !== undefined
  const windowMs = options.throughputWindowMs ?? 10 * 60_000
  if (typeof windowMs !== 'number' || !(windowMs >= 10_000)) {
    throw new EskitError('INVALID_ARGUMENT', 'createDashboard: throughputWindowMs must be at least 10 000 ms')
  }
  const monitor = createStatusMonitor({
    source,
    logger,
    historyWindowMs: windowMs,
    // about 300 points over the window, never finer than the sampling
    historyStepMs: Math.max(options.sampleIntervalMs ?? 1000, Math.round(windowMs / 300)),
    ...(options.sampleIntervalMs === undefined ? {} : { sampleIntervalMs: options.sampleIntervalMs }),
  })
  const streams = new Set<() => void>()

  const stateOf = (sample: MonitorSample) => ({
    title,
    writable,
    stepMs: monitor.historyStepMs,
    windowMs: monitor.history.windowMs,
    history: monitor.history.points(),
    sampledAt: sample.sampledAt,
    projections: sample.projections,
  })

  const page = async (request: Request): Promise<Response> => {
    const { html, contentSecurityPolicy } = await loadPage()
    return new Response(request.method === 'HEAD' ? null : html, {
      headers: {
        ...SECURITY_HEADERS,
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': contentSecurityPolicy,
        'x-frame-options': 'DENY',
      },
    })
  }

  const events = async (request: Request): Promise<Response> => {
    const first = await monitor.sample()
    const { response, close } = eventStreamResponse(
      (send) => {
        send('state', stateOf(first))
        const unsubscribe = monitor.subscribe((sample) => {
          send('sample', {
            sampledAt: sample.sampledAt,
            projections: sample.projections,
            point: sample.point,
          })
        })
        return () => {
          unsubscribe()
          streams.delete(close)
        }
      },
      request.signal,
      SECURITY_HEADERS,
    )
    streams.add(close)
    return response
  }

  const parked = async (name: string): Promise<Response> => {
    try {
      const list = await source.parked(name)
      return json(200, { name, parked: list })
    } catch (error) {
      return errorResponse(error)
    }
  }

  const rebuild = async (request: Request, name: string): Promise<Response> => {
    if (collector === undefined) return methodNotAllowed('GET')
    const refusal = checkWrite(request, token, allowedOrigins)
    if (refusal) {
      logger.warn('dashboard refused a rebuild request', {
        name,
        status: refusal.status,
        reason: refusal.code,
      })
      const headers: Record<string, string> =
        refusal.status === 401 ? { 'www-authenticate': 'Bearer realm="eskit dashboard"' } : {}
      return failure(refusal.status, refusal.code, refusal.message, headers)
    }
    if (!collector.status().some((status) => status.name === name)) {
      return failure(404, 'NOT_FOUND', `no projection named ${JSON.stringify(name)}`)
    }
    logger.info('dashboard rebuild requested', { name })
    const rebuilding = collector.rebuild(name)
    // refused at once (a stopped collector): answer that; otherwise the page follows the rebuild live
    const refused = await Promise.race([
      rebuilding.then(
        () => null,
        (error: unknown) => error,
      ),
      new Promise<null>((resolve) => setImmediate(() => resolve(null))),
    ])
    if (refused !== null) {
      logger.warn('dashboard rebuild refused by the collector', { name, error: messageOf(refused) })
      return errorResponse(refused)
    }
    rebuilding.then(
      () => logger.info('dashboard rebuild completed', { name }),
      (error: unknown) =>
        logger.warn('dashboard rebuild did not complete', { name, error: messageOf(error) }),
    )
    return json(202, { name, rebuilding: true })
  }

  const route = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    let path = url.pathname
    if (basePath !== '') {
      if (path === basePath) {
        // the page's links are relative to the mount point with its slash
        return new Response(null, { status: 308, headers: { location: `${basePath}/${url.search}` } })
      }
      if (!path.startsWith(`${basePath}/`)) return failure(404, 'NOT_FOUND', 'not part of the dashboard')
      path = path.slice(basePath.length)
    }
    const read = request.method === 'GET' || request.method === 'HEAD'
    if (path === '/' || path === '') return read ? page(request) : methodNotAllowed('GET')
    if (path === '/metrics') return metricsFor(request, monitor)
    if (path === '/api/state')
      return read ? json(200, stateOf(await monitor.sample())) : methodNotAllowed('GET')
    if (path === '/api/events') return read ? events(request) : methodNotAllowed('GET')
    const match = NAME_ROUTE.exec(path)
    if (match) {
      const name = safeDecode(match[1] as string)
      if (name === null || !isValidProjectionName(name)) {
        return failure(400, 'INVALID_NAME', 'not a valid projection name')
      }
      if (match[2] === 'parked') return read ? parked(name) : methodNotAllowed('GET')
      if (request.method !== 'POST') return methodNotAllowed(collector === undefined ? 'GET' : 'POST')
      return rebuild(request, name)
    }
    return failure(404, 'NOT_FOUND', 'no such dashboard page')
  }

  const dashboard = async (request: Request): Promise<Response> => {
    try {
      return await route(request)
    } catch (error) {
      logger.error('dashboard request failed', { path: safePath(request), error: messageOf(error) })
      return errorResponse(error)
    }
  }
  return Object.assign(dashboard, {
    metrics: (request: Request) => metricsFor(request, monitor),
    close() {
      monitor.close()
      for (const close of [...streams]) close()
    },
  })
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment)
  } catch {
    return null
  }
}

function safePath(request: Request): string {
  try {
    return new URL(request.url).pathname
  } catch {
    return ''
  }
}

import { type Collector, type EventStore, isEskitError, type Logger } from '@eskit/core'
import type { Dashboard } from '@eskit/dashboard'
import { createReader } from '@eskit/kysely-views'
import { zValidator } from '@hono/zod-validator'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { sql } from 'kysely'
import type { z } from 'zod'
import { createService, issuePass, revokePass, scanPass } from './commands.ts'
import { RequestFailure } from './request-failure.ts'
import {
  type ConsistencyInput,
  consistencyQuery,
  createServiceBody,
  dailyStatsQuery,
  describeIssues,
  idParam,
  issuePassBody,
  listPassesQuery,
  listScansQuery,
  listServicesQuery,
  revokePassBody,
  scanPassBody,
} from './schemas.ts'
import type { DailyStatsTables } from './views/daily-stats.ts'
import type { ViewName, YoyoViews } from './views/index.ts'
import type { PassViewTables } from './views/pass-view.ts'
import type { ScanLogTables } from './views/scan-log.ts'
import type { ServiceListTables } from './views/service-list.ts'

/** Options of {@link createHttpApp}. */
export interface HttpAppOptions {
  events: EventStore
  collector: Collector
  views: YoyoViews
  logger: Logger
  /** Largest accepted request body. Default 16 KiB. */
  bodyLimitBytes?: number
  /** How long a consistent read waits for its projections. Default 5 000 ms. */
  waitTimeoutMs?: number
  /** Mounted at `/eskit` (created with `basePath: '/eskit'`). */
  dashboard?: Dashboard
}

// Commands take JSON only: anything else would reach the schema as an empty object and get a
// misleading answer.
const requireJson = createMiddleware(async (c, next) => {
  if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
    return failure(
      c,
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'send the body as JSON with content-type: application/json',
    )
  }
  await next()
  return undefined
})

// Every validation failure answers the same shape: 400 with one precise line per problem.
const validate = <T extends z.ZodType, Target extends 'json' | 'query' | 'param'>(
  target: Target,
  schema: T,
) =>
  zValidator(target, schema, (result, c) => {
    if (!result.success) {
      const where = target === 'json' ? 'body' : target === 'query' ? 'query' : 'path'
      return c.json(
        {
          error: {
            code: 'INVALID_INPUT',
            message: `invalid ${where}: ${describeIssues(result.error.issues)}`,
            issues: result.error.issues.map((issue) => ({
              path: issue.path.map(String),
              message: issue.message,
            })),
          },
        },
        400,
      )
    }
    return undefined
  })

function failure(c: Context, status: ContentfulStatusCode, code: string, message: string, details?: object) {
  return c.json({ error: { code, message, ...(details === undefined ? {} : { details }) } }, status)
}

function statusOf(code: string): ContentfulStatusCode {
  switch (code) {
    case 'CONCURRENCY':
      return 409
    case 'NOT_FOUND':
      return 404
    case 'INVALID_EVENT':
    case 'INVALID_ARGUMENT':
    case 'INVALID_NAME':
      return 400
    case 'TIMEOUT':
      return 504
    case 'FAILED':
    case 'UNAVAILABLE':
    case 'CLOSED':
    case 'BUSY':
    case 'LOCKED':
    case 'INVALID_STATE':
      return 503
    default:
      return 500
  }
}

/**
 * The yoyopass HTTP API on Hono: commands append events with optimistic concurrency, queries read
 * projections (optionally after waiting for a position: read-your-writes), `/projections` shows
 * `collector.status()`, `/health` answers liveness, `/eskit` serves the operator dashboard.
 *
 * @example
 * ```ts
 * const app = createHttpApp({ events, collector, views, logger })
 * const res = await app.request('/health')
 * ```
 */
export function createHttpApp(options: HttpAppOptions): Hono {
  const { events, collector, views, logger } = options
  const waitTimeoutMs = options.waitTimeoutMs ?? 5_000
  const services = createReader(collector, views.serviceList)
  const passes = createReader(collector, views.passView)
  const scans = createReader(collector, views.scanLog)
  const stats = createReader(collector, views.dailyStats)

  // Waits (when asked) until the projections a query reads include `after`, or the log's head for
  // `consistent=true`; answers which position the reply reflects.
  async function settle(c: Context, input: ConsistencyInput, names: ViewName[]): Promise<void> {
    const header = c.req.header('x-consistent')
    const consistent =
      input.consistent === 'true' || input.consistent === '1' || header === 'true' || header === '1'
    const headerAfter = c.req.header('x-after-position')
    let target = input.after
    if (target === undefined && headerAfter !== undefined) {
      const parsed = Number(headerAfter)
      if (!Number.isSafeInteger(parsed) || parsed < 0) {
        throw new RequestFailure(
          400,
          'INVALID_INPUT',
          'invalid header: x-after-position must be an integer ≥ 0',
        )
      }
      target = parsed
    }
    if (consistent) target = Math.max(target ?? 0, await events.head())
    if (target !== undefined && target > 0) {
      await collector.waitFor(target, { projections: names, timeoutMs: waitTimeoutMs })
    }
    const positions = collector
      .status()
      .filter((status) => (names as string[]).includes(status.name))
      .map((status) => status.position)
    c.header('x-projection-position', String(positions.length === 0 ? 0 : Math.min(...positions)))
  }

  const app = new Hono()

  app.use(
    '*',
    bodyLimit({
      maxSize: options.bodyLimitBytes ?? 16 * 1024,
      onError: (c) =>
        failure(
          c,
          413,
          'PAYLOAD_TOO_LARGE',
          `request body exceeds ${options.bodyLimitBytes ?? 16 * 1024} bytes`,
        ),
    }),
  )
  // The operator dashboard answers everything under /eskit itself; registered before the
  // in-flight count, so its open live streams are not requests a graceful stop waits for.
  const { dashboard } = options
  if (dashboard) {
    app.all('/eskit', (c) => dashboard(c.req.raw))
    app.all('/eskit/*', (c) => dashboard(c.req.raw))
  }
  // Counted for /health: what a graceful stop still has to finish.
  let inFlight = 0
  app.use('*', async (_c, next) => {
    inFlight++
    try {
      await next()
    } finally {
      inFlight--
    }
    return undefined
  })

  app.get('/health', async (c) => {
    const statuses = collector.status()
    const failed = statuses.filter((s) => s.state === 'failed').map((s) => s.name)
    // A shared log that cannot be reached leaves every read serving from the local files: the
    // node stays up (200) and says so, so a load balancer keeps sending it reads.
    let head: number | null = null
    let log: 'ok' | 'unreachable' = 'ok'
    try {
      head = await events.head()
    } catch (error) {
      if (!isEskitError(error, 'UNAVAILABLE')) throw error
      log = 'unreachable'
    }
    const body = {
      status: failed.length === 0 ? 'ok' : 'degraded',
      head,
      log,
      // This request included.
      requestsInFlight: inFlight,
      projections: Object.fromEntries(statuses.map((s) => [s.name, s.state])),
      ...(failed.length === 0 ? {} : { failed }),
    }
    return c.json(body, failed.length === 0 ? 200 : 503)
  })

  app.get('/projections', (c) => c.json(collector.status()))

  // ---- commands ----
  app.post('/services', requireJson, validate('json', createServiceBody), async (c) => {
    const result = await createService(events, c.req.valid('json'))
    return c.json(result, 201)
  })

  app.post('/passes', requireJson, validate('json', issuePassBody), async (c) => {
    const result = await issuePass(events, c.req.valid('json'))
    return c.json(result, 201)
  })

  app.post(
    '/passes/:passId/revoke',
    validate('param', idParam('passId')),
    requireJson,
    validate('json', revokePassBody),
    async (c) => {
      const { passId } = c.req.valid('param') as { passId: string }
      const result = await revokePass(events, passId, c.req.valid('json'))
      return c.json({ passId, ...result })
    },
  )

  app.post(
    '/passes/:passId/scans',
    validate('param', idParam('passId')),
    requireJson,
    validate('json', scanPassBody),
    async (c) => {
      const { passId } = c.req.valid('param') as { passId: string }
      const result = await scanPass(events, passId, c.req.valid('json'))
      return c.json({ passId, ...result }, 201)
    },
  )

  // ---- queries ----
  app.get('/services', validate('query', listServicesQuery), async (c) => {
    await settle(c, c.req.valid('query'), ['services.service_list'])
    const rows = await services.selectFrom('services').selectAll().orderBy('name').orderBy('id').execute()
    return c.json({ services: rows.map(serviceJson) })
  })

  app.get(
    '/services/:serviceId',
    validate('param', idParam('serviceId')),
    validate('query', consistencyQuery),
    async (c) => {
      const { serviceId } = c.req.valid('param') as { serviceId: string }
      await settle(c, c.req.valid('query'), ['services.service_list'])
      const row = await services
        .selectFrom('services')
        .selectAll()
        .where('id', '=', serviceId)
        .executeTakeFirst()
      if (row === undefined)
        return failure(c, 404, 'SERVICE_NOT_FOUND', `service "${serviceId}" does not exist`)
      return c.json(serviceJson(row))
    },
  )

  app.get('/passes', validate('query', listPassesQuery), async (c) => {
    const query = c.req.valid('query')
    await settle(c, query, ['passes.pass_view'])
    let select = passes.selectFrom('passes').selectAll()
    if (query.serviceId !== undefined) select = select.where('service_id', '=', query.serviceId)
    if (query.holder !== undefined) select = select.where('holder', '=', query.holder)
    if (query.status !== undefined) select = select.where('status', '=', query.status)
    const rows = await select.orderBy('id').limit(query.limit).offset(query.offset).execute()
    return c.json({ passes: rows.map(passJson), limit: query.limit, offset: query.offset })
  })

  app.get(
    '/passes/:passId',
    validate('param', idParam('passId')),
    validate('query', consistencyQuery),
    async (c) => {
      const { passId } = c.req.valid('param') as { passId: string }
      await settle(c, c.req.valid('query'), ['passes.pass_view'])
      const row = await passes.selectFrom('passes').selectAll().where('id', '=', passId).executeTakeFirst()
      if (row === undefined) return failure(c, 404, 'PASS_NOT_FOUND', `pass "${passId}" does not exist`)
      return c.json(passJson(row))
    },
  )

  const listScans = async (
    c: Context,
    passId: string | undefined,
    query: z.output<typeof listScansQuery>,
  ) => {
    await settle(c, query, ['scanning.scan_log'])
    let select = scans.selectFrom('scans').selectAll()
    if (passId !== undefined) select = select.where('pass_id', '=', passId)
    if (query.serviceId !== undefined) select = select.where('service_id', '=', query.serviceId)
    if (query.gate !== undefined) select = select.where('gate', '=', query.gate)
    if (query.result !== undefined) select = select.where('result', '=', query.result)
    if (query.before !== undefined) select = select.where('position', '<', query.before)
    const rows = await select.orderBy('position', 'desc').limit(query.limit).execute()
    const last = rows.at(-1)
    return c.json({
      scans: rows.map(scanJson),
      ...(rows.length === query.limit && last !== undefined ? { nextBefore: last.position } : {}),
    })
  }

  app.get('/scans', validate('query', listScansQuery), (c) => listScans(c, undefined, c.req.valid('query')))

  app.get(
    '/passes/:passId/scans',
    validate('param', idParam('passId')),
    validate('query', listScansQuery),
    (c) => listScans(c, (c.req.valid('param') as { passId: string }).passId, c.req.valid('query')),
  )

  app.get('/stats/daily', validate('query', dailyStatsQuery), async (c) => {
    const query = c.req.valid('query')
    await settle(c, query, ['scanning.daily_stats'])
    let select = stats.selectFrom('daily_stats')
    if (query.serviceId !== undefined) select = select.where('service_id', '=', query.serviceId)
    if (query.from !== undefined) select = select.where('day', '>=', query.from)
    if (query.to !== undefined) select = select.where('day', '<=', query.to)
    const days = await select.selectAll().orderBy('day').orderBy('service_id').execute()
    const totals = await select
      .select([
        sql<number>`coalesce(sum(issued), 0)`.as('issued'),
        sql<number>`coalesce(sum(scans), 0)`.as('scans'),
        sql<number>`coalesce(sum(accepted), 0)`.as('accepted'),
        sql<number>`coalesce(sum(denied), 0)`.as('denied'),
      ])
      .executeTakeFirstOrThrow()
    return c.json({ days: days.map(dayJson), totals })
  })

  app.notFound((c) =>
    failure(c, 404, 'NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`),
  )

  app.onError((error, c) => {
    if (error instanceof RequestFailure) {
      return failure(c, error.status, error.code, error.message, error.details)
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode
      return failure(c, status, status === 400 ? 'INVALID_INPUT' : 'HTTP_ERROR', error.message)
    }
    if (isEskitError(error)) {
      const status = statusOf(error.code)
      if (status >= 500) logger.error('request failed', { code: error.code, message: error.message })
      return failure(c, status, error.code, error.message, error.details)
    }
    logger.error('request failed', {
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    })
    return failure(c, 500, 'INTERNAL', 'internal error; see the server log')
  })

  return app
}

function serviceJson(row: ServiceListTables['services']) {
  return {
    serviceId: row.id,
    name: row.name,
    gates: JSON.parse(row.gates) as string[],
    createdAt: row.created_at,
    passesIssued: row.passes_issued,
    passesActive: row.passes_active,
    scans: row.scans,
  }
}

function passJson(row: PassViewTables['passes']) {
  return {
    passId: row.id,
    serviceId: row.service_id,
    holder: row.holder,
    status: row.status,
    issuedAt: row.issued_at,
    validUntil: row.valid_until,
    revokedAt: row.revoked_at,
    revokeReason: row.revoke_reason,
    scans: row.scans,
    deniedScans: row.denied_scans,
    lastScanAt: row.last_scan_at,
    lastGate: row.last_gate,
  }
}

function scanJson(row: ScanLogTables['scans']) {
  return {
    position: row.position,
    passId: row.pass_id,
    serviceId: row.service_id,
    gate: row.gate,
    at: row.at,
    result: row.result,
    reason: row.reason,
  }
}

function dayJson(row: DailyStatsTables['daily_stats']) {
  return {
    day: row.day,
    serviceId: row.service_id,
    issued: row.issued,
    scans: row.scans,
    accepted: row.accepted,
    denied: row.denied,
    uniquePasses: row.unique_passes,
  }
}

import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { isEskitError } from '@eskit/core'
import { readProjectionFile } from '@eskit/sqlite-store'
import { afterEach, describe, expect, it } from 'vitest'
import {
  appendMany,
  cleanUp,
  defer,
  eventually,
  poisonedProjection,
  recordingLogger,
  rowsProjection,
  startApp,
} from '../test/support.js'
import { createDashboard } from './create-dashboard.js'

afterEach(cleanUp)

const TOKEN = 'operator-token-0123456789abcdef'
const ORIGIN = 'http://dash.test'

function dashboardOf(options: Parameters<typeof createDashboard>[0]) {
  const dashboard = createDashboard(options)
  defer(() => dashboard.close())
  return dashboard
}

const get = (
  dashboard: (r: Request) => Promise<Response>,
  route: string,
  headers: Record<string, string> = {},
) => dashboard(new Request(`${ORIGIN}${route}`, { headers }))
const post = (
  dashboard: (r: Request) => Promise<Response>,
  route: string,
  headers: Record<string, string> = {},
) => dashboard(new Request(`${ORIGIN}${route}`, { method: 'POST', headers }))

/** What proves a projection was not rebuilt: its file's build time and the collector's record. */
function rebuildEvidence(app: Awaited<ReturnType<typeof startApp>>, name: string) {
  return {
    builtAt: readProjectionFile(path.join(app.dir, `${name}.db`)).builtAt,
    lastRebuild: app.collector.status().find((s) => s.name === name)?.lastRebuild,
  }
}

describe('createDashboard: options', () => {
  it('refuses bad options with INVALID_ARGUMENT and never repeats the token', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')] })
    const codeOf = (make: () => unknown): string => {
      try {
        make()
        return 'created'
      } catch (error) {
        return isEskitError(error) ? `${error.code}: ${error.message}` : String(error)
      }
    }
    expect(codeOf(() => createDashboard({}))).toMatch(/^INVALID_ARGUMENT/)
    const short = codeOf(() => createDashboard({ collector: app.collector, token: 'short-secret' }))
    expect(short).toMatch(/^INVALID_ARGUMENT: .*at least 16/)
    expect(short).not.toContain('short-secret')
    expect(
      codeOf(() => createDashboard({ source: { status: () => [], parked: async () => [] }, token: TOKEN })),
    ).toMatch(/^INVALID_ARGUMENT: .*needs a collector/)
    expect(codeOf(() => createDashboard({ collector: app.collector, basePath: 'eskit' }))).toMatch(
      /^INVALID_ARGUMENT/,
    )
  })
})

describe('createDashboard: reading', () => {
  it('serves one self-contained page with a CSP that allows only its own inline script and style', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')] })
    const dashboard = dashboardOf({ collector: app.collector, token: TOKEN })
    const response = await get(dashboard, '/')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toMatch(/default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/)
    expect(csp).toContain("connect-src 'self'")
    const html = await response.text()
    expect(html).toContain('<script type="module">')
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/)
    // the token is never part of a page
    expect(html).not.toContain(TOKEN)
  })

  it("the page's script writes data as text only: no HTML sinks, no eval, no remote address", async () => {
    const script = await readFile(new URL('./page/dashboard.js', import.meta.url), 'utf8')
    expect(script).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\('on/,
    )
    expect(script).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/)
  })

  it('answers /api/state with every projection, its measurements and whether it can write', async () => {
    const app = await startApp({
      projections: [rowsProjection('passes'), rowsProjection('scans')],
      events: 30,
    })
    await app.collector.waitFor(30)
    const dashboard = dashboardOf({ collector: app.collector, title: 'yoyopass' })
    const response = await get(dashboard, '/api/state')
    expect(response.status).toBe(200)
    const state = (await response.json()) as Record<string, unknown>
    expect(state).toMatchObject({ title: 'yoyopass', writable: false, stepMs: 2000, windowMs: 600_000 })
    const projections = state.projections as Array<Record<string, unknown>>
    expect(projections.map((p) => [p.name, p.position, p.head, p.lag, p.parkedCount])).toEqual([
      ['passes', 30, 30, 0, 0],
      ['scans', 30, 30, 0, 0],
    ])
    expect(JSON.stringify(state)).not.toContain(TOKEN)
  })

  it('redirects the mount point to its slash and only answers under it', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')] })
    const dashboard = dashboardOf({ collector: app.collector, basePath: '/eskit' })
    const redirect = await get(dashboard, '/eskit?x=1')
    expect(redirect.status).toBe(308)
    expect(redirect.headers.get('location')).toBe('/eskit/?x=1')
    expect((await get(dashboard, '/eskit/')).status).toBe(200)
    expect((await get(dashboard, '/eskit/api/state')).status).toBe(200)
    expect((await get(dashboard, '/elsewhere/api/state')).status).toBe(404)
    expect((await get(dashboard, '/eskitx/api/state')).status).toBe(404)
  })

  it("lists a projection's parked events with each event's data, and answers bad names clearly", async () => {
    const app = await startApp({
      projections: [poisonedProjection('guarded', 'boom <b>bold</b>')],
      onError: 'skip',
      append: async (events) => {
        await events.append('s-1', [
          { type: 'Fine', data: {} },
          { type: 'Poison', data: { html: '<img src=x onerror=alert(1)>' } },
          { type: 'Fine', data: {} },
        ])
      },
    })
    await app.collector.waitFor(3)
    const dashboard = dashboardOf({ collector: app.collector })
    const response = await get(dashboard, '/api/projections/guarded/parked')
    expect(response.status).toBe(200)
    const body = (await response.json()) as { parked: Array<Record<string, any>> }
    expect(body.parked).toHaveLength(1)
    expect(body.parked[0]).toMatchObject({ position: 2, type: 'Poison', error: 'boom <b>bold</b>' })
    expect(body.parked[0]?.event.data).toEqual({ html: '<img src=x onerror=alert(1)>' })
    const counted = await eventually(async () => {
      const state = (await (await get(dashboard, '/api/state')).json()) as {
        projections: Array<{ parkedCount: number }>
      }
      return state.projections[0]?.parkedCount === 1
    }, 'the parked count')
    expect(counted).toBe(true)
    expect((await get(dashboard, '/api/projections/nope/parked')).status).toBe(404)
    const invalid = await get(dashboard, '/api/projections/..%2Fx/parked')
    expect(invalid.status).toBe(400)
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe('INVALID_NAME')
  })

  it('streams the state, then samples, over server-sent events', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')], events: 5 })
    await app.collector.waitFor(5)
    const dashboard = dashboardOf({ collector: app.collector, sampleIntervalMs: 50 })
    const controller = new AbortController()
    const response = await dashboard(new Request(`${ORIGIN}/api/events`, { signal: controller.signal }))
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = (response.body as ReadableStream<Uint8Array>)
      .pipeThrough(new TextDecoderStream())
      .getReader()
    let text = ''
    await appendMany(app.events, 7)
    while (!/event: sample\ndata: .*"position":12/.test(text)) {
      const { value, done } = await reader.read()
      if (done) break
      text += value
    }
    expect(text).toMatch(/^retry: 2000\n\nevent: state\ndata: \{"title":"eskit","writable":false/)
    expect(text).toMatch(/event: sample\ndata: .*"name":"passes".*"position":12/)
    controller.abort()
  })
})

describe('createDashboard: the rebuild button', () => {
  it('rebuilds with the token from the same origin: 202, and the projection is rebuilt', async () => {
    const logger = recordingLogger()
    const app = await startApp({ projections: [rowsProjection('passes')], events: 20 })
    await app.collector.waitFor(20)
    const dashboard = dashboardOf({ collector: app.collector, token: TOKEN, logger })
    const response = await post(dashboard, '/api/projections/passes/rebuild', {
      authorization: `Bearer ${TOKEN}`,
      origin: ORIGIN,
      'sec-fetch-site': 'same-origin',
    })
    expect(response.status).toBe(202)
    expect(await response.json()).toEqual({ name: 'passes', rebuilding: true })
    const rebuilt = await eventually(() => rebuildEvidence(app, 'passes').lastRebuild, 'the rebuild')
    expect(rebuilt.durationMs).toBeGreaterThanOrEqual(0)
    expect(JSON.stringify(logger.lines)).not.toContain(TOKEN)
    expect(logger.lines.some((line) => line.message === 'dashboard rebuild requested')).toBe(true)
  })

  it('answers 401 without the token or with a wrong one, and nothing is rebuilt', async () => {
    const logger = recordingLogger()
    const app = await startApp({ projections: [rowsProjection('passes')], events: 20 })
    await app.collector.waitFor(20)
    const before = rebuildEvidence(app, 'passes')
    const dashboard = dashboardOf({ collector: app.collector, token: TOKEN, logger })
    const wrong = `${TOKEN.slice(0, -1)}X`
    for (const headers of [
      {},
      { authorization: `Bearer ${wrong}` },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: TOKEN },
      { authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` },
    ] as Record<string, string>[]) {
      const response = await post(dashboard, '/api/projections/passes/rebuild', headers)
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toContain('Bearer')
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED')
    }
    // an append after the refusals shows the collector kept running the same file
    await appendMany(app.events, 1)
    await app.collector.waitFor(21)
    expect(rebuildEvidence(app, 'passes')).toEqual(before)
    expect(before.lastRebuild).toBeDefined() // the first build; no second one
    expect(JSON.stringify(logger.lines)).not.toContain(TOKEN)
    expect(JSON.stringify(logger.lines)).not.toContain(wrong)
  })

  it('answers 403 to another origin or site, even with the token, and nothing is rebuilt', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')], events: 20 })
    await app.collector.waitFor(20)
    const before = rebuildEvidence(app, 'passes')
    const dashboard = dashboardOf({ collector: app.collector, token: TOKEN })
    const auth = { authorization: `Bearer ${TOKEN}` }
    for (const headers of [
      { ...auth, origin: 'http://evil.test' },
      { ...auth, origin: 'null' },
      { ...auth, origin: 'http://dash.test:8080' },
      { ...auth, 'sec-fetch-site': 'cross-site' },
      { ...auth, 'sec-fetch-site': 'same-site' },
    ]) {
      const response = await post(dashboard, '/api/projections/passes/rebuild', headers)
      expect(response.status).toBe(403)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('CROSS_ORIGIN')
    }
    await appendMany(app.events, 1)
    await app.collector.waitFor(21)
    expect(rebuildEvidence(app, 'passes')).toEqual(before)
  })

  it('accepts an origin listed in allowedOrigins (a reverse proxy in front)', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')], events: 5 })
    await app.collector.waitFor(5)
    const dashboard = dashboardOf({
      collector: app.collector,
      token: TOKEN,
      allowedOrigins: ['https://ops.example'],
    })
    const response = await post(dashboard, '/api/projections/passes/rebuild', {
      authorization: `Bearer ${TOKEN}`,
      origin: 'https://ops.example',
    })
    expect(response.status).toBe(202)
  })

  it('without a token configured the endpoint answers 403 and nothing is rebuilt', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')], events: 20 })
    await app.collector.waitFor(20)
    const before = rebuildEvidence(app, 'passes')
    const dashboard = dashboardOf({ collector: app.collector })
    const response = await post(dashboard, '/api/projections/passes/rebuild', {
      authorization: `Bearer ${TOKEN}`,
    })
    expect(response.status).toBe(403)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('WRITE_DISABLED')
    await appendMany(app.events, 1)
    await app.collector.waitFor(21)
    expect(rebuildEvidence(app, 'passes')).toEqual(before)
  })

  it('answers 503 CLOSED when the collector has stopped, instead of accepting a rebuild that cannot run', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')] })
    const dashboard = dashboardOf({ collector: app.collector, token: TOKEN })
    await app.collector.stop()
    const response = await post(dashboard, '/api/projections/passes/rebuild', {
      authorization: `Bearer ${TOKEN}`,
    })
    expect(response.status).toBe(503)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('CLOSED')
  })

  it('answers 404 for an unknown projection and 405 for other methods', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')] })
    const dashboard = dashboardOf({ collector: app.collector, token: TOKEN })
    const unknown = await post(dashboard, '/api/projections/other/rebuild', {
      authorization: `Bearer ${TOKEN}`,
    })
    expect(unknown.status).toBe(404)
    expect((await get(dashboard, '/api/projections/passes/rebuild')).status).toBe(405)
    expect((await post(dashboard, '/api/state')).status).toBe(405)
  })

  it('a read-only source has no write endpoint at all', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')], events: 3 })
    await app.collector.waitFor(3)
    const before = rebuildEvidence(app, 'passes')
    const dashboard = dashboardOf({
      source: { status: () => app.collector.status(), parked: (name) => app.collector.parked(name) },
    })
    for (const route of ['/api/projections/passes/rebuild', '/', '/api/state', '/metrics']) {
      const response = await post(dashboard, route, { authorization: `Bearer ${TOKEN}` })
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('GET')
    }
    expect(((await (await get(dashboard, '/api/state')).json()) as { writable: boolean }).writable).toBe(
      false,
    )
    expect(rebuildEvidence(app, 'passes')).toEqual(before)
  })
})

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readProjectionFile } from '@eskit/sqlite-store'
import { eventually } from '@eskit/test-kit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { http, runYoyopass, startYoyopass, untilLive, type YoyopassProcess } from './yoyopass-process.ts'

const running: YoyopassProcess[] = []
const dirs: string[] = []

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
  dirs.push(dir)
  return dir
}

async function start(args: string[], env: Record<string, string> = {}): Promise<YoyopassProcess> {
  const app = await startYoyopass(args, env)
  running.push(app)
  return app
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
})

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

// The reads whose answers must not depend on the storage strategy.
const QUERIES = [
  '/services?consistent=true',
  '/services/city-pool?consistent=true',
  '/passes?limit=500&consistent=true',
  '/passes?serviceId=metro-gym&status=revoked&consistent=true',
  '/scans?limit=1000&consistent=true',
  '/scans?gate=north&result=denied&consistent=true',
  '/stats/daily?consistent=true',
  '/stats/daily?serviceId=museum-quarter&from=2026-01-01&consistent=true',
]

async function answers(url: string): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {}
  for (const query of QUERIES) {
    const res = await http(url, 'GET', query)
    expect(res.status, query).toBe(200)
    result[query] = res.body
  }
  return result
}

describe('yoyopass over HTTP (real process)', () => {
  it('serves commands, consistent queries and precise refusals', async () => {
    const dir = tempDir()
    const app = await start(['serve', '--port', '0', '--data', dir])
    const { url } = app

    const service = await http(url, 'POST', '/services', {
      serviceId: 'pool',
      name: 'City Pool',
      gates: ['north'],
    })
    expect(service.status).toBe(201)
    const issued = await http(url, 'POST', '/passes', {
      passId: 'p-1',
      serviceId: 'pool',
      holder: 'Ada Lovelace',
    })
    expect(issued.body).toMatchObject({ passId: 'p-1', streamVersion: 1, position: 2 })
    const scan = await http(url, 'POST', '/passes/p-1/scans', { gate: 'north', expectedVersion: 1 })
    expect(scan.body).toMatchObject({ result: 'accepted', streamVersion: 2, position: 3 })

    // Read-your-writes: each query waits for the position the command returned.
    const pass = await http(url, 'GET', `/passes/p-1?after=${scan.body.position}`)
    expect(pass.body).toMatchObject({ passId: 'p-1', scans: 1, lastGate: 'north', status: 'active' })
    const log = await http(url, 'GET', '/scans?consistent=true')
    expect(log.body.scans).toEqual([
      expect.objectContaining({ position: 3, passId: 'p-1', result: 'accepted' }),
    ])
    const consistentHeader = await fetch(`${url}/services/pool`, { headers: { 'x-consistent': 'true' } })
    expect(await consistentHeader.json()).toMatchObject({ passesIssued: 1, scans: 1 })

    const stale = await http(url, 'POST', '/passes/p-1/revoke', { reason: 'lost', expectedVersion: 1 })
    expect(stale.status).toBe(409)
    expect(stale.body.error).toMatchObject({
      code: 'CONCURRENCY',
      details: { expectedVersion: 1, actualVersion: 2 },
    })
    const bad = await http(url, 'POST', '/passes', { serviceId: 'pool' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toBe(
      'invalid body: holder: Invalid input: expected string, received undefined',
    )
    const large = await http(url, 'POST', '/passes', { serviceId: 'pool', holder: 'x'.repeat(20_000) })
    expect(large.status).toBe(413)
    const missing = await http(url, 'GET', '/does-not-exist')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('NOT_FOUND')
    expect((await http(url, 'GET', '/health')).body).toMatchObject({ status: 'ok', head: 3 })

    const statuses = (await http(url, 'GET', '/projections')).body as Array<{
      name: string
      position: number
    }>
    expect(statuses.map((s) => [s.name, s.position])).toEqual([
      ['services.service_list', 3],
      ['passes.pass_view', 3],
      ['scanning.scan_log', 3],
      ['scanning.daily_stats', 3],
    ])
    expect(await app.stop()).toBe(0)
    expect(app.stderr()).toContain('stopped cleanly')
  })

  it('keeps data across a restart, refuses a second owner, and lets in-flight requests finish on SIGTERM', async () => {
    const dir = tempDir()
    const first = await start(['serve', '--port', '0', '--data', dir, '--wait-timeout', '1500'])
    await http(first.url, 'POST', '/services', { serviceId: 'gym', name: 'Metro Gym', gates: ['main'] })
    const issued = await http(first.url, 'POST', '/passes', {
      passId: 'kept',
      serviceId: 'gym',
      holder: 'Grace',
    })

    const second = await runYoyopass(['serve', '--port', '0', '--data', dir])
    expect(second.code).toBe(75)
    expect(second.stderr).toContain('another yoyopass process owns this data directory')

    // A read waiting for a position that never comes is in flight when SIGTERM arrives: it gets its answer.
    const waiting = http(first.url, 'GET', '/passes/kept?after=1000')
    await eventually(async () => (await http(first.url, 'GET', '/health')).body.requestsInFlight >= 2, {
      what: 'two requests in flight',
      intervalMs: 20,
    })
    const exit = first.stop()
    const answer = await waiting
    expect(answer.status).toBe(504)
    expect(answer.body.error.code).toBe('TIMEOUT')
    expect(await exit).toBe(0)

    const restarted = await start(['serve', '--port', '0', '--data', dir])
    const pass = await http(restarted.url, 'GET', '/passes/kept')
    expect(pass.body).toMatchObject({ passId: 'kept', holder: 'Grace', serviceId: 'gym' })
    const again = await http(restarted.url, 'POST', '/passes/kept/scans', {
      gate: 'main',
      expectedVersion: issued.body.streamVersion,
    })
    expect(again.body).toMatchObject({ result: 'accepted', position: 3 })
  }, 30_000)

  it('serves identical query results with --store files and --store shared', async () => {
    const dir = tempDir()
    const seeded = await runYoyopass(['seed', '--data', dir, '--passes', '300'])
    expect(seeded.code).toBe(0)
    expect(seeded.stdout).toMatch(/seeded 300 passes, 3 new services, \d+ events/)

    const files = await start(['serve', '--port', '0', '--data', dir, '--store', 'files'])
    const fromFiles = await answers(files.url)
    expect(await files.stop()).toBe(0)

    const shared = await start(['serve', '--port', '0', '--data', dir], { YOYOPASS_STORE: 'shared' })
    const fromShared = await answers(shared.url)
    expect(await shared.stop()).toBe(0)

    expect(fs.existsSync(path.join(dir, 'projections', 'passes.pass_view.db'))).toBe(true)
    expect(fs.existsSync(path.join(dir, 'shared.db'))).toBe(true)
    expect((fromFiles['/passes?limit=500&consistent=true'] as { passes: unknown[] }).passes).toHaveLength(300)
    expect(
      (fromFiles['/scans?limit=1000&consistent=true'] as { scans: unknown[] }).scans.length,
    ).toBeGreaterThan(300)
    expect(fromShared).toEqual(fromFiles)
  }, 40_000)
})

describe('deploys: changed versions and --rebuild-projection', () => {
  let dir: string
  let head: number

  beforeAll(async () => {
    dir = tempDir()
    expect((await runYoyopass(['seed', '--data', dir, '--passes', '400'])).code).toBe(0)
    const app = await startYoyopass(['serve', '--port', '0', '--data', dir])
    head = (await http(app.url, 'GET', '/health')).body.head
    await http(app.url, 'GET', '/projections')
    await http(app.url, 'GET', `/passes?after=${head}`)
    await http(app.url, 'GET', `/services?after=${head}`)
    await http(app.url, 'GET', `/scans?after=${head}`)
    await http(app.url, 'GET', `/stats/daily?after=${head}`)
    expect(await app.stop()).toBe(0)
  }, 30_000)

  it('a changed view version rebuilds only that projection; the others answer at once', async () => {
    const others = ['services.service_list.db', 'scanning.scan_log.db', 'scanning.daily_stats.db']
    const built = () => others.map((file) => readProjectionFile(path.join(dir, 'projections', file)))
    const before = built()
    expect(before.map((info) => info.position)).toEqual([head, head, head])

    const app = await start(['serve', '--port', '0', '--data', dir], {
      YOYOPASS_VIEW_VERSIONS: 'passes.pass_view=2',
    })
    // Straight after start: the unchanged projections are live at the head, with no replay.
    const first = (await http(app.url, 'GET', '/projections')).body as Array<{
      name: string
      state: string
      position: number
      version: string
    }>
    for (const name of ['services.service_list', 'scanning.scan_log', 'scanning.daily_stats']) {
      expect(first.find((s) => s.name === name)).toMatchObject({ state: 'live', position: head })
    }
    // The changed view serves its old file while the new version builds beside it: never partial.
    const during = await http(app.url, 'GET', '/passes?limit=500')
    expect(during.body.passes).toHaveLength(400)
    const services = await http(app.url, 'GET', '/services')
    expect(
      services.body.services.reduce((n: number, s: { passesIssued: number }) => n + s.passesIssued, 0),
    ).toBe(400)

    const passes = await http(app.url, 'GET', '/passes?limit=500&consistent=true')
    expect(passes.body.passes).toHaveLength(400)
    // a consistent read is served by the old file (already at the head); the new version is in
    // once the build (in a worker thread) is swapped in and the view is live again
    const status = await untilLive(app.url, head)
    expect(status.find((s) => s.name === 'passes.pass_view')?.version).toMatch(/^2\+/)
    expect(await app.stop()).toBe(0)

    const rebuilt = app
      .stderr()
      .split('\n')
      .filter((line) => line.includes('projection rebuilt'))
    expect(rebuilt).toHaveLength(1)
    expect(rebuilt[0]).toContain('"name":"passes.pass_view"')
    // The other files were not rebuilt: same build time, same checkpoint, same version.
    expect(built().map(({ builtAt, position, version }) => ({ builtAt, position, version }))).toEqual(
      before.map(({ builtAt, position, version }) => ({ builtAt, position, version })),
    )
  }, 30_000)

  it('--rebuild-projection rebuilds one projection beside the live one while serving', async () => {
    const app = await start(
      ['serve', '--port', '0', '--data', dir, '--rebuild-projection=scanning.daily_stats'],
      {
        YOYOPASS_VIEW_VERSIONS: 'passes.pass_view=2',
      },
    )
    const stats = await http(app.url, 'GET', '/stats/daily')
    expect(stats.status).toBe(200)
    const totalsBefore = stats.body.totals
    expect(totalsBefore.issued).toBe(400)
    await eventually(() => app.stderr().includes('projection rebuilt'), {
      what: 'the rebuild',
      timeoutMs: 15_000,
    })
    const rebuiltLine =
      app
        .stderr()
        .split('\n')
        .find((line) => line.includes('projection rebuilt')) ?? ''
    expect(rebuiltLine).toContain('"name":"scanning.daily_stats"')
    expect(rebuiltLine).toContain('"swapped":true')
    expect((await http(app.url, 'GET', '/stats/daily')).body.totals).toEqual(totalsBefore)
    expect(await app.stop()).toBe(0)
  }, 30_000)

  it('refuses an unknown projection name for --rebuild-projection', async () => {
    const result = await runYoyopass(['serve', '--port', '0', '--data', dir, '--rebuild-projection', 'nope'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('unknown projection "nope"')
  })
})

describe('demo', () => {
  it('seeds on first run only, prints URLs to try, and stops cleanly', async () => {
    const dir = tempDir()
    const first = await start(['demo', '--port', '0', '--data', dir, '--passes', '60'])
    // the demo prints its instructions once it serves, ending with the revoke example: wait for it
    await eventually(() => first.stdout().includes('/passes/my-pass/revoke'), {
      what: 'the demo instructions',
      timeoutMs: 15_000,
    })
    expect(first.stdout()).toContain('first run: seeding 60 passes')
    expect(first.stdout()).toMatch(/seeded 60 passes, 3 new services/)
    const curlLines = first
      .stdout()
      .split('\n')
      .filter((line) => line.trim().startsWith('curl -s'))
    expect(curlLines.length).toBeGreaterThanOrEqual(8)
    expect(curlLines[0]).toContain(`${first.url}/health`)
    const passes = await http(first.url, 'GET', '/passes?consistent=true&limit=100')
    expect(passes.body.passes).toHaveLength(60)
    // the operator dashboard is served at /eskit; an open live stream does not hold up the stop
    expect(first.stdout()).toContain(`open ${first.url}/eskit/ in a browser`)
    const page = await fetch(`${first.url}/eskit/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<h1 id="title">')
    const live = await fetch(`${first.url}/eskit/api/events`)
    const reader = (live.body as ReadableStream<Uint8Array>).getReader()
    const firstChunk = new TextDecoder().decode((await reader.read()).value)
    expect(firstChunk).toContain('retry: 2000')
    expect(await first.stop()).toBe(0)
    expect(first.stderr()).toContain('stopped cleanly')
    expect(first.stderr()).not.toContain('requests still open after the grace period')

    const second = await start(['demo', '--port', '0', '--data', dir, '--passes', '60'])
    expect(second.stdout()).toContain('using the existing data')
    expect((await http(second.url, 'GET', '/passes?limit=100')).body.passes).toHaveLength(60)
  }, 30_000)
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from './test-support.ts'

let t: TestApp

beforeEach(async () => {
  t = await startTestApp({ bodyLimitBytes: 2048, waitTimeoutMs: 3000 })
})

afterEach(async () => {
  await t.dispose()
})

async function pool() {
  const res = await t.call('POST', '/services', {
    serviceId: 'pool',
    name: 'City Pool',
    gates: ['north', 'south'],
  })
  expect(res.status).toBe(201)
  return res.body
}

describe('commands and read-your-writes queries', () => {
  it('creates a service, issues and scans a pass, and reads them back consistently', async () => {
    await pool()
    const issued = await t.call('POST', '/passes', {
      passId: 'p-1',
      serviceId: 'pool',
      holder: 'Ada Lovelace',
    })
    expect(issued.status).toBe(201)
    expect(issued.body).toMatchObject({ passId: 'p-1', streamVersion: 1 })
    const scanned = await t.call('POST', '/passes/p-1/scans', { gate: 'north', expectedVersion: 1 })
    expect(scanned.status).toBe(201)
    expect(scanned.body).toMatchObject({ passId: 'p-1', result: 'accepted', streamVersion: 2 })

    const pass = await t.call('GET', `/passes/p-1?after=${scanned.body.position}`)
    expect(pass.status).toBe(200)
    expect(pass.body).toMatchObject({
      passId: 'p-1',
      holder: 'Ada Lovelace',
      status: 'active',
      scans: 1,
      lastGate: 'north',
    })
    expect(Number(pass.headers.get('x-projection-position'))).toBeGreaterThanOrEqual(scanned.body.position)

    const service = await t.call('GET', '/services/pool?consistent=true')
    expect(service.body).toEqual(
      expect.objectContaining({
        serviceId: 'pool',
        gates: ['north', 'south'],
        passesIssued: 1,
        passesActive: 1,
        scans: 1,
      }),
    )
    const log = await t.call('GET', '/passes/p-1/scans', undefined, { 'x-consistent': 'true' })
    expect(log.body.scans).toEqual([
      expect.objectContaining({
        position: scanned.body.position,
        passId: 'p-1',
        gate: 'north',
        result: 'accepted',
      }),
    ])
  })

  it('records denied scans after a revocation and counts them in the aggregate', async () => {
    await pool()
    await t.call('POST', '/passes', { passId: 'p-2', serviceId: 'pool', holder: 'Grace Hopper' })
    await t.call('POST', '/passes/p-2/scans', { gate: 'south', at: '2026-03-01T10:00:00Z' })
    const revoked = await t.call('POST', '/passes/p-2/revoke', {
      reason: 'reported lost',
      expectedVersion: 2,
    })
    expect(revoked.status).toBe(200)
    const denied = await t.call('POST', '/passes/p-2/scans', { gate: 'north', at: '2026-03-01T11:00:00Z' })
    expect(denied.body).toMatchObject({ result: 'denied', reason: 'revoked', streamVersion: 4 })

    const pass = await t.call('GET', '/passes/p-2?consistent=true')
    expect(pass.body).toMatchObject({
      status: 'revoked',
      revokeReason: 'reported lost',
      scans: 1,
      deniedScans: 1,
    })
    const stats = await t.call(
      'GET',
      '/stats/daily?serviceId=pool&from=2026-03-01&to=2026-03-01&consistent=true',
    )
    expect(stats.body.days).toEqual([
      {
        day: '2026-03-01',
        serviceId: 'pool',
        issued: 0,
        scans: 2,
        accepted: 1,
        denied: 1,
        uniquePasses: 1,
      },
    ])
    const service = await t.call('GET', '/services/pool?consistent=1')
    expect(service.body).toMatchObject({ passesIssued: 1, passesActive: 0, scans: 2 })
    const deniedLog = await t.call('GET', '/scans?result=denied&consistent=true')
    expect(deniedLog.body.scans.map((s: { reason: string }) => s.reason)).toEqual(['revoked'])
  })

  it('denies a scan after the pass expired', async () => {
    await pool()
    await t.call('POST', '/passes', {
      passId: 'p-3',
      serviceId: 'pool',
      holder: 'Alan Turing',
      validUntil: '2026-01-31T23:59:59Z',
    })
    const late = await t.call('POST', '/passes/p-3/scans', { gate: 'north', at: '2026-02-01T08:00:00Z' })
    expect(late.body).toMatchObject({ result: 'denied', reason: 'expired' })
  })

  it('lists passes with filters and paging', async () => {
    await pool()
    for (const id of ['a', 'b', 'c']) {
      await t.call('POST', '/passes', { passId: id, serviceId: 'pool', holder: id === 'b' ? 'Bob' : 'Ann' })
    }
    const page = await t.call('GET', '/passes?serviceId=pool&limit=2&offset=1&consistent=true')
    expect(page.body.passes.map((p: { passId: string }) => p.passId)).toEqual(['b', 'c'])
    const byHolder = await t.call('GET', '/passes?holder=Ann&consistent=true')
    expect(byHolder.body.passes.map((p: { passId: string }) => p.passId)).toEqual(['a', 'c'])
  })
})

describe('concurrency', () => {
  it('retries concurrent scans without expectedVersion so none is lost', async () => {
    await pool()
    await t.call('POST', '/passes', { passId: 'busy', serviceId: 'pool', holder: 'Ada' })
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.call('POST', '/passes/busy/scans', { gate: i % 2 === 0 ? 'north' : 'south' }),
      ),
    )
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201))
    expect(results.map((r) => r.body.streamVersion).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9])
    const pass = await t.call('GET', '/passes/busy?consistent=true')
    expect(pass.body.scans).toBe(8)
  })

  it('lets exactly one of two writers with the same expectedVersion win', async () => {
    await pool()
    await t.call('POST', '/passes', { passId: 'race', serviceId: 'pool', holder: 'Ada' })
    const [a, b] = await Promise.all([
      t.call('POST', '/passes/race/scans', { gate: 'north', expectedVersion: 1 }),
      t.call('POST', '/passes/race/scans', { gate: 'south', expectedVersion: 1 }),
    ])
    expect([a?.status, b?.status].sort()).toEqual([201, 409])
    expect((await t.events.readStream('pass-race')).length).toBe(2)
  })
})

describe('refusals', () => {
  it('answers 409 with both versions when expectedVersion is stale, and writes nothing', async () => {
    await pool()
    await t.call('POST', '/passes', { passId: 'p-1', serviceId: 'pool', holder: 'Ada' })
    await t.call('POST', '/passes/p-1/scans', { gate: 'north' })
    const headBefore = await t.events.head()
    const stale = await t.call('POST', '/passes/p-1/revoke', { reason: 'lost', expectedVersion: 1 })
    expect(stale.status).toBe(409)
    expect(stale.body.error).toMatchObject({
      code: 'CONCURRENCY',
      details: { streamId: 'pass-p-1', expectedVersion: 1, actualVersion: 2 },
    })
    expect(stale.body.error.message).toContain('is at version 2, the request expected 1')
    expect(await t.events.head()).toBe(headBefore)
  })

  it('answers 409 for an existing pass id or service id, and for a second revocation', async () => {
    await pool()
    const again = await t.call('POST', '/services', { serviceId: 'pool', name: 'Other', gates: ['x'] })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('CONCURRENCY')
    await t.call('POST', '/passes', { passId: 'p-1', serviceId: 'pool', holder: 'Ada' })
    const dup = await t.call('POST', '/passes', { passId: 'p-1', serviceId: 'pool', holder: 'Eve' })
    expect(dup.status).toBe(409)
    await t.call('POST', '/passes/p-1/revoke', { reason: 'lost' })
    const twice = await t.call('POST', '/passes/p-1/revoke', { reason: 'lost' })
    expect(twice.status).toBe(409)
    expect(twice.body.error.code).toBe('ALREADY_REVOKED')
  })

  it('answers 400 with the field and the problem', async () => {
    const noGates = await t.call('POST', '/services', { name: 'Pool', gates: [] })
    expect(noGates.status).toBe(400)
    expect(noGates.body.error).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'invalid body: gates: a service needs at least one gate',
    })

    const extra = await t.call('POST', '/services', { name: 'Pool', gates: ['a'], colour: 'blue' })
    expect(extra.body.error.message).toBe('invalid body: unknown field(s) colour')

    const badDate = await t.call('POST', '/passes', {
      serviceId: 'pool',
      holder: 'Ada',
      validUntil: 'tomorrow',
    })
    expect(badDate.status).toBe(400)
    expect(badDate.body.error.message).toContain('validUntil: must be an ISO 8601 date-time')

    const badVersion = await t.call('POST', '/passes/p-1/scans', { gate: 'north', expectedVersion: 0 })
    expect(badVersion.body.error.message).toBe('invalid body: expectedVersion: must be at least 1')

    const badQuery = await t.call('GET', '/passes?limit=9999')
    expect(badQuery.status).toBe(400)
    expect(badQuery.body.error.message).toBe('invalid query: limit: must be at most 500')

    const badPath = await t.call('GET', '/passes/..%2Fetc')
    expect(badPath.status).toBe(400)
    expect(badPath.body.error.message).toMatch(/^invalid path: passId: must be 1–64 chars/)

    const badHeader = await t.call('GET', '/services', undefined, { 'x-after-position': 'soon' })
    expect(badHeader.status).toBe(400)
    expect(badHeader.body.error.message).toBe('invalid header: x-after-position must be an integer ≥ 0')

    const malformed = await t.call('POST', '/services', '{"name": ')
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.message).toBe('Malformed JSON in request body')
    expect(await t.events.head()).toBe(0)
  })

  it('answers 404 for unknown passes, services and routes, 422 for an unknown gate', async () => {
    const noService = await t.call('POST', '/passes', { serviceId: 'nope', holder: 'Ada' })
    expect(noService.status).toBe(404)
    expect(noService.body.error.code).toBe('SERVICE_NOT_FOUND')
    const noPass = await t.call('POST', '/passes/ghost/scans', { gate: 'north' })
    expect(noPass.status).toBe(404)
    expect(noPass.body.error.code).toBe('PASS_NOT_FOUND')
    expect((await t.call('GET', '/passes/ghost')).status).toBe(404)
    const route = await t.call('GET', '/nowhere')
    expect(route.status).toBe(404)
    expect(route.body.error).toEqual({ code: 'NOT_FOUND', message: 'no route for GET /nowhere' })
    const postRoute = await t.app.request('/nowhere', { method: 'POST', body: 'x' })
    expect(postRoute.status).toBe(404)
    const notANumber = await t.call('GET', '/scans?after=soon')
    expect(notANumber.body.error.message).toBe('invalid query: after: must be a number')

    await pool()
    await t.call('POST', '/passes', { passId: 'p-1', serviceId: 'pool', holder: 'Ada' })
    const gate = await t.call('POST', '/passes/p-1/scans', { gate: 'roof' })
    expect(gate.status).toBe(422)
    expect(gate.body.error).toMatchObject({ code: 'UNKNOWN_GATE', details: { gates: ['north', 'south'] } })
    expect(await t.events.head()).toBe(2)
  })

  it('answers 413 past the body limit and 415 without a JSON content type', async () => {
    const big = await t.call('POST', '/services', { name: 'x'.repeat(3000), gates: ['a'] })
    expect(big.status).toBe(413)
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE')
    const res = await t.app.request('/services', {
      method: 'POST',
      body: 'name=x',
      headers: { 'content-type': 'text/plain' },
    })
    expect(res.status).toBe(415)
    expect(await t.events.head()).toBe(0)
  })
})

describe('operations endpoints', () => {
  it('GET /projections returns the collector status and /health sums it up', async () => {
    await pool()
    await t.call('GET', '/services?consistent=true')
    const res = await t.call('GET', '/projections')
    expect(res.status).toBe(200)
    expect(res.body.map((s: { name: string }) => s.name).sort()).toEqual([
      'passes.pass_view',
      'scanning.daily_stats',
      'scanning.scan_log',
      'services.service_list',
    ])
    const list = res.body.find((s: { name: string }) => s.name === 'services.service_list')
    expect(list).toMatchObject({ position: 1, head: 1, lag: 0 })
    const health = await t.call('GET', '/health')
    expect(health.status).toBe(200)
    expect(health.body).toMatchObject({ status: 'ok', head: 1 })
  })
})

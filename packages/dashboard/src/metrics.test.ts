import { afterEach, describe, expect, it } from 'vitest'
import { parseMetrics, sampleValue } from '../test/prometheus.js'
import { appendMany, cleanUp, defer, eventually, rowsProjection, startApp } from '../test/support.js'
import { createDashboard } from './create-dashboard.js'
import { createMetricsHandler } from './create-metrics-handler.js'

afterEach(cleanUp)

const scrape = async (handler: (request: Request) => Promise<Response>, url = 'http://dash.test/metrics') => {
  const response = await handler(new Request(url))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  return parseMetrics(await response.text())
}

describe('GET /metrics', () => {
  it('exposes position, lag, a one-hot state, events processed and rebuild durations per projection', async () => {
    const app = await startApp({
      projections: [rowsProjection('passes'), rowsProjection('scans.v2')],
      events: 40,
    })
    await app.collector.waitFor(40)
    const dashboard = createDashboard({ collector: app.collector })
    defer(() => dashboard.close())
    let families = await scrape(dashboard)
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]))
    expect(types).toMatchObject({
      eskit_projection_position: 'gauge',
      eskit_projection_lag: 'gauge',
      eskit_projection_state: 'gauge',
      eskit_projection_events_total: 'counter',
      eskit_projection_rebuild_duration_seconds: 'histogram',
    })
    expect(sampleValue(families, 'eskit_projection_position', { projection: 'scans.v2' })).toBe(40)
    expect(sampleValue(families, 'eskit_projection_lag', { projection: 'passes' })).toBe(0)
    const states = families.find((f) => f.name === 'eskit_projection_state')?.samples ?? []
    expect(
      states.filter((m) => m.labels.projection === 'passes').map((m) => [m.labels.state, m.value]),
    ).toEqual([
      ['starting', 0],
      ['rebuilding', 0],
      ['catching-up', 0],
      ['live', 1],
      ['failed', 0],
      ['stopped', 0],
    ])
    // counting starts when the dashboard does: 25 appends are 25 events for each projection
    await appendMany(app.events, 25)
    await app.collector.waitFor(65)
    families = await scrape(dashboard)
    expect(sampleValue(families, 'eskit_projection_events_total', { projection: 'passes' })).toBe(25)
    expect(sampleValue(families, 'eskit_projection_events_total', { projection: 'scans.v2' })).toBe(25)

    // the first builds were seen once each; a requested rebuild adds one to passes only
    const count = (projection: string) =>
      sampleValue(families, 'eskit_projection_rebuild_duration_seconds_count', { projection })
    expect([count('passes'), count('scans.v2')]).toEqual([1, 1])
    await app.collector.rebuild('passes')
    families = await scrape(dashboard)
    expect([count('passes'), count('scans.v2')]).toEqual([2, 1])
    const bucket = (le: string) =>
      sampleValue(families, 'eskit_projection_rebuild_duration_seconds_bucket', { projection: 'passes', le })
    expect(bucket('3600')).toBe(2)
    expect(bucket('+Inf')).toBe(2)
    expect(
      sampleValue(families, 'eskit_projection_rebuild_duration_seconds_sum', { projection: 'passes' }),
    ).toBeGreaterThanOrEqual(0)
    // the rebuild replayed all 65 events beside the live file
    expect(sampleValue(families, 'eskit_projection_events_total', { projection: 'passes' })).toBe(90)
    expect(sampleValue(families, 'eskit_projection_events_total', { projection: 'scans.v2' })).toBe(25)
  })

  it('createMetricsHandler serves the same on any path, and reports a failing projection', async () => {
    const app = await startApp({
      projections: [
        rowsProjection('passes'),
        {
          ...rowsProjection('broken'),
          apply() {
            throw new Error('no "quotes" \\ or\nnewlines break the format')
          },
        },
      ],
      events: 3,
    })
    const metrics = createMetricsHandler({ collector: app.collector })
    defer(() => metrics.close())
    const families = await eventually(async () => {
      const parsed = await scrape(metrics, 'http://internal:9464/anything')
      return sampleValue(parsed, 'eskit_projection_state', { projection: 'broken', state: 'failed' }) === 1
        ? parsed
        : null
    }, 'the failed state')
    expect(
      sampleValue(families, 'eskit_projection_error_attempts', { projection: 'broken' }),
    ).toBeGreaterThanOrEqual(1)
    expect(sampleValue(families, 'eskit_projection_lag', { projection: 'broken' })).toBe(3)
    expect(sampleValue(families, 'eskit_projection_state', { projection: 'passes', state: 'live' })).toBe(1)
    const post = await metrics(new Request('http://internal:9464/metrics', { method: 'POST' }))
    expect(post.status).toBe(405)
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { appendMany, cleanUp, defer, listen, rowsProjection, startApp } from '../test/support.js'
import { createDashboard } from './create-dashboard.js'
import { toNodeHandler } from './node-handler.js'

afterEach(cleanUp)

const TOKEN = 'operator-token-0123456789abcdef'

describe('toNodeHandler', () => {
  it("serves the dashboard on Node's http: page, live stream, same-origin write with its body", async () => {
    const app = await startApp({ projections: [rowsProjection('passes')], events: 4 })
    await app.collector.waitFor(4)
    const dashboard = createDashboard({ collector: app.collector, token: TOKEN, sampleIntervalMs: 50 })
    defer(() => dashboard.close())
    const url = await listen(toNodeHandler(dashboard))

    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(await page.text()).toContain('<h1 id="title">')
    const head = await fetch(`${url}/`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')

    const controller = new AbortController()
    const stream = await fetch(`${url}/api/events`, { signal: controller.signal })
    const reader = (stream.body as ReadableStream<Uint8Array>)
      .pipeThrough(new TextDecoderStream())
      .getReader()
    await appendMany(app.events, 3)
    let text = ''
    while (!/"position":7/.test(text)) {
      const { value, done } = await reader.read()
      if (done) break
      text += value
    }
    expect(text).toContain('event: sample')
    controller.abort()

    // the origin the browser used is the request's own origin: accepted
    const write = await fetch(`${url}/api/projections/passes/rebuild`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, origin: url, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(write.status).toBe(202)
    const cross = await fetch(`${url}/api/projections/passes/rebuild`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, origin: 'http://127.0.0.1:1' },
    })
    expect(cross.status).toBe(403)
    const big = await fetch(`${url}/api/projections/passes/rebuild`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: 'x'.repeat(100_000),
    })
    expect(big.status).toBe(413)
  })
})

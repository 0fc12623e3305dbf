import fs from 'node:fs'
import type { BrowserContext } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createDashboard, toNodeHandler } from '../dist/index.mjs'
import { openBrowser, type PageGlobals } from './browser.js'
import {
  appendMany,
  cleanUp,
  createGate,
  defer,
  listen,
  poisonedProjection,
  rowsProjection,
  startApp,
} from './support.js'

afterEach(cleanUp)

// one Chromium for the file, a fresh page (and live stream) per test
let browser: BrowserContext
let closeBrowser: () => Promise<void>
beforeAll(async () => {
  ;({ context: browser, close: closeBrowser } = await openBrowser())
})
afterAll(() => closeBrowser?.())

const TOKEN = 'browser-token-0123456789abcdef'
const HOSTILE = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'

async function serve(options: Parameters<typeof createDashboard>[0]): Promise<string> {
  const dashboard = createDashboard({ basePath: '/eskit', sampleIntervalMs: 100, ...options })
  defer(() => dashboard.close())
  return `${await listen(toNodeHandler(dashboard))}/eskit/`
}

async function newPage() {
  const page = await browser.newPage()
  defer(() => page.close())
  return page
}

const card = (name: string) => `article.card[data-projection="${name}"]`

describe('the dashboard page in Chromium', () => {
  it("shows each projection's state, updates live with no reload, and shows hostile error text as text", async () => {
    const app = await startApp({
      projections: [
        rowsProjection('passes.pass_view-v2'),
        { ...rowsProjection('broken_view'), apply: () => Promise.reject(new Error(HOSTILE)) },
      ],
      events: 12,
    })
    await app.collector.waitFor(12, { projections: ['passes.pass_view-v2'] })
    // a short window: throughput points every 100 ms, so the chart has lines within the test
    const url = await serve({ collector: app.collector, throughputWindowMs: 30_000 })
    const page = await newPage()
    let transferred = 0
    page.on('requestfinished', async (request) => {
      const sizes = await request.sizes().catch(() => null)
      if (sizes && request.resourceType() === 'document')
        transferred += sizes.responseHeadersSize + sizes.responseBodySize
    })
    await page.goto(url)

    const passes = page.locator(card('passes.pass_view-v2'))
    await expect.poll(() => passes.locator('.state').textContent()).toBe('live')
    await expect.poll(() => passes.locator('.value-position').textContent()).toBe('12')
    const broken = page.locator(card('broken_view'))
    await expect.poll(() => broken.locator('.state').textContent()).toBe('failed')
    expect(
      await broken
        .locator('.state')
        .evaluate((node) => (globalThis as unknown as PageGlobals).getComputedStyle(node).backgroundColor),
    ).toBe('rgb(198, 40, 40)')
    expect(
      await passes
        .locator('.state')
        .evaluate((node) => (globalThis as unknown as PageGlobals).getComputedStyle(node).backgroundColor),
    ).toBe('rgb(26, 127, 55)')
    await expect.poll(() => broken.locator('.error-message').textContent()).toBe(HOSTILE)
    expect(await broken.locator('.error-title').textContent()).toMatch(
      /^failed at position 1 \(attempt \d+\)$/,
    )

    // no reload: the same document sees the new head
    await page.evaluate(() => {
      ;(globalThis as unknown as PageGlobals).__sameDocument = true
    })
    await appendMany(app.events, 8)
    await expect.poll(() => passes.locator('.value-position').textContent()).toBe('20')
    await expect.poll(() => passes.locator('.value-head').textContent()).toBe('20')
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__sameDocument)).toBe(true)

    // the throughput chart: a line per projection, a legend entry each
    const line = page.locator('#chart polyline[data-projection="passes.pass_view-v2"]')
    await expect
      .poll(async () => ((await line.getAttribute('points')) ?? '').split(' ').length)
      .toBeGreaterThan(2)
    expect(await page.locator('#legend li').allTextContents()).toEqual([
      expect.stringMatching(/^passes\.pass_view-v2: [\d,]+\/s$/),
      expect.stringMatching(/^broken_view: 0\/s$/),
    ])
    expect(await page.locator('#window').textContent()).toBe('30 seconds')

    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__xss)).toBeUndefined()
    expect(await page.locator('main img').count()).toBe(0)
    // read-only: no token field, no rebuild button, and a direct POST is refused
    expect(await page.locator('#token-form').isVisible()).toBe(false)
    expect(await passes.locator('.rebuild-button').isVisible()).toBe(false)
    const status = await page.evaluate(async () => {
      const response = await fetch('api/projections/passes.pass_view-v2/rebuild', {
        method: 'POST',
        headers: { authorization: 'Bearer browser-token-0123456789abcdef' },
      })
      return response.status
    })
    expect(status).toBe(403)
    // the page is one document: its weight is what the first load transferred
    expect(transferred).toBeGreaterThan(0)
    expect(transferred).toBeLessThan(48 * 1024)
  })

  it('lists parked events with their JSON, HTML in the data and the error shown as text', async () => {
    const app = await startApp({
      projections: [poisonedProjection('guarded', HOSTILE)],
      onError: 'skip',
      append: async (events) => {
        await events.append('pass-<b>1</b>', [
          { type: 'Fine', data: {} },
          { type: 'Poison', data: { holder: HOSTILE } },
        ])
      },
    })
    await app.collector.waitFor(2)
    const url = await serve({ collector: app.collector })
    const page = await newPage()
    await page.goto(url)
    const guarded = page.locator(card('guarded'))
    await expect
      .poll(() => guarded.locator('.parked-count').textContent(), { timeout: 15_000 })
      .toBe('1 parked event')
    await guarded.locator('.parked-button').click()
    const parked = guarded.locator('details.parked-event')
    await expect.poll(() => parked.count()).toBe(1)
    expect(await parked.locator('summary').textContent()).toBe(`#2 Poison on pass-<b>1</b>: ${HOSTILE}`)
    await parked.locator('summary').click()
    const json = JSON.parse((await parked.locator('pre').textContent()) ?? '')
    expect(json).toMatchObject({
      position: 2,
      type: 'Poison',
      streamId: 'pass-<b>1</b>',
      data: { holder: HOSTILE },
    })
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__xss)).toBeUndefined()
    expect(await page.locator('main img, main b').count()).toBe(0)
  })

  it('with the token, a click on rebuild shows the progress bar moving to done and the state back to live', async () => {
    const gate = createGate()
    const app = await startApp({
      projections: [rowsProjection('passes', { gate })],
      events: 3000,
      batchSize: 100,
    })
    await app.collector.waitFor(3000)
    const firstBuild = app.collector.status()[0]?.lastRebuild
    const url = await serve({ collector: app.collector, token: TOKEN })
    const page = await newPage()
    await page.goto(url)
    const passes = page.locator(card('passes'))
    await expect.poll(() => passes.locator('.state').textContent()).toBe('live')
    expect(await page.content()).not.toContain(TOKEN)

    // no token typed in yet: the click asks for it and nothing is sent
    await passes.locator('.rebuild-button').click()
    expect(await passes.locator('.message').textContent()).toMatch(/operator token/)
    await page.locator('#token').fill(TOKEN)
    await page.locator('#token-form button[type="submit"]').click()
    expect(
      await page.evaluate(() => Object.values((globalThis as unknown as PageGlobals).sessionStorage)),
    ).toEqual([TOKEN])
    expect(await page.locator('#token').inputValue()).toBe('')

    gate.close()
    await passes.locator('.rebuild-button').click()
    await expect.poll(() => passes.locator('.state').textContent()).toBe('rebuilding')
    await expect.poll(() => passes.locator('.message').textContent()).toBe('Rebuild requested.')
    const progress = passes.locator('progress.rebuild-progress')
    expect(await progress.isVisible()).toBe(true)
    const value = () => progress.evaluate((node) => (node as unknown as { value: number; max: number }).value)
    expect(await progress.evaluate((node) => (node as unknown as { value: number; max: number }).max)).toBe(
      3000,
    )
    gate.allow(12)
    await expect.poll(value).toBe(1200)
    expect(await passes.locator('.rebuild-text').textContent()).toMatch(
      /^rebuilding 40% · 1,200 \/ 3,000 events/,
    )
    if (process.env.ESKIT_SCREENSHOT)
      await page.screenshot({ path: process.env.ESKIT_SCREENSHOT, fullPage: true })
    gate.allow(6)
    await expect.poll(value).toBe(1800)
    gate.open()
    await expect.poll(() => passes.locator('.state').textContent()).toBe('live')
    expect(await progress.isVisible()).toBe(false)
    expect(await passes.locator('.last-rebuild').textContent()).toMatch(/^last rebuild .+, took \d/)
    const rebuilt = app.collector.status()[0]?.lastRebuild
    expect(rebuilt?.at).not.toBe(firstBuild?.at)
  })

  it('a wrong token is refused: the page says so, forgets it, and nothing is rebuilt', async () => {
    const app = await startApp({ projections: [rowsProjection('passes')], events: 50 })
    await app.collector.waitFor(50)
    const before = app.collector.status()[0]?.lastRebuild
    const url = await serve({ collector: app.collector, token: TOKEN })
    const page = await newPage()
    await page.goto(url)
    const passes = page.locator(card('passes'))
    await expect.poll(() => passes.locator('.state').textContent()).toBe('live')
    await page.locator('#token').fill('not-the-operator-token-at-all')
    await page.locator('#token-form button[type="submit"]').click()
    await passes.locator('.rebuild-button').click()
    await expect
      .poll(() => passes.locator('.message').textContent())
      .toBe('The token was refused: enter it again.')
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.length)).toBe(0)
    await appendMany(app.events, 1)
    await app.collector.waitFor(51)
    expect(app.collector.status()[0]?.lastRebuild).toEqual(before)
    expect(fs.existsSync(app.dir)).toBe(true)
  })
})

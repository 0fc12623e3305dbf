// Takes the README's screenshot: a busy scene (live appends, one projection failing, one
// rebuilding after a click on its button) served by the built package, shot in Chromium.
//
//   node scripts/screenshot.ts OUT.png        (after `pnpm --filter @eskit/dashboard build`)
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { createCollector, type Projection } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import { createDashboard, toNodeHandler } from '../dist/index.mjs'
import { openBrowser } from '../test/browser.ts'

const out = path.resolve(process.argv[2] ?? 'dashboard.png')
const TOKEN = 'screenshot-token-0123456789'
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-screenshot-'))
let rebuilding = false

const view = (name: string, types?: string[]): Projection<Database.Database> => ({
  name,
  version: '1',
  ...(types === undefined ? {} : { eventTypes: types }),
  setup(db) {
    db.exec('create table rows (position integer primary key)')
  },
  async apply(events, db) {
    // a rebuild that lasts long enough to be seen
    if (rebuilding && name === 'passes.pass_view') await delay(40)
    const insert = db.prepare('insert into rows (position) values (?)')
    for (const event of events) insert.run(event.position)
  },
})
const failing: Projection<Database.Database> = {
  ...view('scanning.daily_stats'),
  apply(events) {
    const bad = events.find((event) => (event.data as { n: number }).n === 5_000)
    if (bad) throw new Error('day "2026-13-01" is not a date (PassScanned at gate north)')
  },
}

const events = openSqliteEventStore({ path: path.join(root, 'events.db') })
const append = async (count: number, from: number): Promise<void> => {
  const batch = Array.from({ length: count }, (_, i) => ({
    type: (from + i) % 3 === 0 ? 'PassIssued' : 'PassScanned',
    data: { n: from + i },
  }))
  await events.append(`pass-${from}`, batch)
}
for (let n = 0; n < 30_000; n += 1000) await append(1000, n)
const collector = createCollector({
  events,
  store: sqliteStore({ dir: path.join(root, 'projections') }),
  batchSize: 200,
  retry: { initialDelayMs: 1000, maxDelayMs: 5000 },
})
collector
  .add(view('passes.pass_view', ['PassIssued', 'PassScanned']))
  .add(view('scanning.scan_log', ['PassScanned']))
  .add(view('services.service_list', ['PassIssued']))
  .add(failing)
await collector.start()
await collector.waitFor(30_000, {
  projections: ['passes.pass_view', 'scanning.scan_log', 'services.service_list'],
})

const dashboard = createDashboard({
  collector,
  token: TOKEN,
  basePath: '/eskit',
  title: 'yoyopass',
  throughputWindowMs: 60_000,
})
const server = http.createServer(toNodeHandler(dashboard))
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eskit/`

// live traffic at a changing rate, for the throughput chart
let next = 30_000
let running = true
const traffic = (async () => {
  for (let tick = 0; running; tick++) {
    const rate = 40 + Math.round(30 * Math.sin(tick / 8))
    await append(rate, next)
    next += rate
    await delay(250)
  }
})()

const browser = await openBrowser()
try {
  const page = await browser.context.newPage()
  await page.goto(url)
  await delay(45_000) // the chart fills
  await page.locator('#token').fill(TOKEN)
  await page.locator('#token-form button[type="submit"]').click()
  rebuilding = true
  await page.locator('article[data-projection="passes.pass_view"] .rebuild-button').click()
  const rebuild = page.locator('article[data-projection="passes.pass_view"] .rebuild')
  while (Number((await rebuild.getAttribute('data-percent')) ?? 0) < 35) await delay(50)
  await page
    .locator('article .message')
    .first()
    .evaluate((node) => {
      node.textContent = ''
    })
  await page.screenshot({ path: out, fullPage: true })
  process.stdout.write(`wrote ${out}\n`)
} finally {
  running = false
  await traffic
  await browser.close()
  dashboard.close()
  server.close()
  await collector.stop()
  await events.close()
  fs.rmSync(root, { recursive: true, force: true })
}

import path from 'node:path'
import { createCollector, type EventStore } from '@eskit/core'
import { createNodeRegistry, openPostgresEventStore } from '@eskit/postgres-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import { useTestDatabase } from '@eskit/test-postgres'
import pg from 'pg'
import type { BrowserContext } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createDashboard, toNodeHandler } from '../dist/index.mjs'
import { openBrowser } from './browser.js'
import { cleanUp, createGate, defer, type Gate, listen, rowsProjection, tempDir } from './support.js'

const databaseUrl = useTestDatabase('dashboard')
afterEach(cleanUp)

let browser: BrowserContext
let closeBrowser: () => Promise<void>
beforeAll(async () => {
  ;({ context: browser, close: closeBrowser } = await openBrowser())
})
afterAll(() => closeBrowser?.())

const SCHEMA = 'cluster'

/** One application node: its own connection to the shared log, its own projection directory. */
async function startNode(nodeId: string, gate?: Gate) {
  const events: EventStore = await openPostgresEventStore({ connectionString: databaseUrl(), schema: SCHEMA })
  defer(() => events.close())
  const collector = createCollector({
    events,
    store: sqliteStore({ dir: path.join(tempDir(), nodeId) }),
    batchSize: 50,
    pollIntervalMs: 50,
  })
  collector.add(rowsProjection('passes', gate ? { gate } : {})).add(rowsProjection('scans'))
  await collector.start()
  defer(() => collector.stop())
  const registry = createNodeRegistry({ connectionString: databaseUrl(), nodeId, schema: SCHEMA })
  defer(() => registry.close())
  registry.follow(collector, { intervalMs: 100 })
  return { events, collector, registry }
}

describe('every node on one page', () => {
  it("lists every node's projections side by side with its lag, live, and a node not seen for a while as gone", async () => {
    const gate = createGate()
    const a = await startNode('node-a')
    const b = await startNode('node-b', gate)
    // a third node that published once, long ago
    const c = createNodeRegistry({ connectionString: databaseUrl(), nodeId: 'node-c', schema: SCHEMA })
    defer(() => c.close())
    await c.publish(a.collector.status())
    const admin = new pg.Client({ connectionString: databaseUrl() })
    await admin.connect()
    defer(() => admin.end())
    await admin.query(
      `UPDATE ${SCHEMA}.eskit_nodes SET seen_at = now() - interval '5 minutes' WHERE node_id = 'node-c'`,
    )

    const dashboard = createDashboard({ collector: a.collector, nodes: a.registry, sampleIntervalMs: 100 })
    defer(() => dashboard.close())
    const page = await browser.newPage()
    defer(() => page.close())
    await page.goto(`${await listen(toNodeHandler(dashboard))}/`)

    const header = page.locator('#nodes-head th.node')
    await expect
      .poll(() => header.evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-node'))))
      .toEqual(['node-a', 'node-b', 'node-c'])
    expect(await page.locator('#nodes-head th[data-node="node-c"] small').textContent()).toMatch(
      /^gone · seen 5 min \d+ s ago$/,
    )
    expect(await page.locator('#nodes-head th[data-node="node-a"] small').textContent()).toMatch(
      /^seen .+ ago$/,
    )
    const cell = (projection: string, node: string) =>
      page.locator(`#nodes-body tr[data-projection="${projection}"] td[data-node="${node}"]`)
    await expect.poll(() => cell('passes', 'node-a').textContent()).toBe('live · lag 0')
    await expect.poll(() => cell('passes', 'node-b').textContent()).toBe('live · lag 0')

    // node B's passes is held: 200 appends on node A leave it behind, and only it
    gate.close()
    const { position } = await a.events.append(
      'pass-1',
      Array.from({ length: 200 }, () => ({ type: 'PassIssued', data: {} })),
    )
    await a.collector.waitFor(position)
    await expect.poll(() => cell('passes', 'node-a').textContent()).toBe('live · lag 0')
    await expect
      .poll(async () => Number((await cell('passes', 'node-b').textContent())?.split('lag ')[1]))
      .toBe(200)
    // one batch runs both of node B's projections: scans waits with passes
    expect(await cell('scans', 'node-b').textContent()).toMatch(/ · lag \d+$/)
    gate.open()
    await b.collector.waitFor(position)
    await expect.poll(() => cell('passes', 'node-b').textContent()).toBe('live · lag 0')
    expect(await cell('passes', 'node-c').getAttribute('data-gone')).toBe('true')
  })
})

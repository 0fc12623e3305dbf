import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { silentLogger } from '@eskit/core'
import { eventually } from '@eskit/test-kit'
import { useTestDatabase } from '@eskit/test-postgres'
import { afterEach, describe, expect, it } from 'vitest'
import { createApp } from './create-app.ts'
import { seed } from './seed.ts'

const dirs: string[] = []
const databaseUrl = useTestDatabase('create_app')

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

async function json(res: Response): Promise<any> {
  return JSON.parse(await res.text())
}

describe('createApp', () => {
  it('wires the standard layout, and the other store answers the same after a switch', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
    dirs.push(dataDir)
    const post = (
      app: { request: (url: string, init: RequestInit) => Response | Promise<Response> },
      url: string,
      body: unknown,
    ) =>
      app.request(url, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      })

    const files = await createApp({ store: 'files', dataDir, logger: silentLogger })
    expect(files.collector.store.kind).toBe('sqlite-files')
    await post(files.app, '/services', { serviceId: 'zoo', name: 'Riverside Zoo', gates: ['main'] })
    await post(files.app, '/passes', { passId: 'z-1', serviceId: 'zoo', holder: 'Hedy Lamarr' })
    const fromFiles = await json(await files.app.request('/passes/z-1?consistent=true'))
    await files.close()
    await files.close()
    expect(
      fs
        .readdirSync(path.join(dataDir, 'projections'))
        .filter((f) => f.endsWith('.db'))
        .sort(),
    ).toEqual([
      'passes.pass_view.db',
      'scanning.daily_stats.db',
      'scanning.scan_log.db',
      'services.service_list.db',
    ])

    const shared = await createApp({ store: 'shared', dataDir, logger: silentLogger })
    expect(shared.collector.store.kind).toBe('sqlite-shared')
    const fromShared = await json(await shared.app.request('/passes/z-1?consistent=true'))
    await shared.close()
    expect(fs.existsSync(path.join(dataDir, 'shared.db'))).toBe(true)
    expect(fromShared).toEqual(fromFiles)
    expect(fromFiles).toMatchObject({
      passId: 'z-1',
      serviceId: 'zoo',
      holder: 'Hedy Lamarr',
      status: 'active',
    })
  })
})

describe('serving while a projection rebuilds', () => {
  it('the collector lets the event loop take turns during a rebuild, so I/O is served meanwhile', {
    timeout: 30_000,
  }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
    dirs.push(dataDir)
    const first = await createApp({ store: 'files', dataDir, logger: silentLogger })
    await seed(first.events, { passes: 800, now: new Date('2026-06-01T00:00:00Z') })
    await first.collector.waitFor(await first.events.head(), { timeoutMs: 30_000 })
    await first.close()

    // on the main thread: what this test is about (a worker's build would not take its turns)
    const second = await createApp({
      store: 'files',
      dataDir,
      logger: silentLogger,
      viewVersions: { 'passes.pass_view': '2' },
      buildWorkers: 0,
    })
    try {
      const head = await second.events.head()
      expect(head).toBeGreaterThan(3000)
      // The collector yields a macrotask turn between batches (better-sqlite3 is synchronous), so
      // one queued now runs after at most one batch: the rebuild has not finished.
      await new Promise((resolve) => setImmediate(resolve))
      const during = second.collector.status().find((s) => s.name === 'passes.pass_view')
      expect(during?.state).toBe('rebuilding')
      expect(during?.rebuild?.position ?? 0).toBeLessThan(head)
      // Meanwhile the old file answers in full.
      const passes = await json(await second.app.request('/passes?limit=500'))
      expect(passes.passes).toHaveLength(500)
      await second.collector.waitFor(head, { timeoutMs: 30_000 })
      expect(second.collector.status().find((s) => s.name === 'passes.pass_view')?.version).toMatch(/^2\+/)
    } finally {
      await second.close()
    }
  })
})

describe('the operator dashboard at /eskit', () => {
  it('mounts the operator dashboard at /eskit: read-only without a token, rebuild with it', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
    dirs.push(dataDir)
    const token = 'yoyopass-dashboard-token-0123'
    const readOnly = await createApp({ store: 'files', dataDir, logger: silentLogger })
    try {
      expect((await readOnly.app.request('http://localhost/eskit')).headers.get('location')).toBe('/eskit/')
      const page = await readOnly.app.request('http://localhost/eskit/')
      expect(page.status).toBe(200)
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
      const state = await json(await readOnly.app.request('http://localhost/eskit/api/state'))
      expect(state.title).toBe('yoyopass')
      expect(state.writable).toBe(false)
      expect(state.projections.map((p: { name: string }) => p.name).sort()).toEqual([
        'passes.pass_view',
        'scanning.daily_stats',
        'scanning.scan_log',
        'services.service_list',
      ])
      const refused = await readOnly.app.request(
        'http://localhost/eskit/api/projections/passes.pass_view/rebuild',
        {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        },
      )
      expect(refused.status).toBe(403)
      const metrics = await (await readOnly.app.request('http://localhost/eskit/metrics')).text()
      expect(metrics).toContain('eskit_projection_state{projection="passes.pass_view",state="live"} 1')
    } finally {
      await readOnly.close()
    }

    const writable = await createApp({ store: 'files', dataDir, logger: silentLogger, dashboardToken: token })
    try {
      const url = 'http://localhost/eskit/api/projections/passes.pass_view/rebuild'
      expect((await writable.app.request(url, { method: 'POST' })).status).toBe(401)
      const accepted = await writable.app.request(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, origin: 'http://localhost' },
      })
      expect(accepted.status).toBe(202)
      await eventually(
        () => writable.collector.status().find((s) => s.name === 'passes.pass_view')?.lastRebuild,
        { what: 'the rebuild to complete', timeoutMs: 10_000 },
      )
    } finally {
      await writable.close()
    }
  })

  it("on a shared PostgreSQL log, each node's dashboard lists every node's projections", async () => {
    const apps = []
    try {
      for (const nodeId of ['node-a', 'node-b']) {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
        dirs.push(dataDir)
        apps.push(
          await createApp({
            store: 'files',
            dataDir,
            events: { kind: 'postgres', connectionString: databaseUrl() },
            nodeId,
            logger: silentLogger,
          }),
        )
      }
      const [a] = apps
      if (!a) throw new Error('no app')
      type Node = { nodeId: string; gone: boolean; projections: Array<{ name: string }> }
      const nodes = await eventually(
        async () => {
          const listed: Node[] = (await json(await a.app.request('http://localhost/eskit/api/state'))).nodes
          return listed.length >= 2 ? listed : undefined
        },
        { what: 'both nodes listed', timeoutMs: 15_000, intervalMs: 50 },
      )
      expect(
        nodes.map((node) => [node.nodeId, node.gone, node.projections.map((p) => p.name).sort()]),
      ).toEqual(
        ['node-a', 'node-b'].map((id) => [
          id,
          false,
          ['passes.pass_view', 'scanning.daily_stats', 'scanning.scan_log', 'services.service_list'],
        ]),
      )
    } finally {
      for (const app of apps) await app.close()
    }
  })
})

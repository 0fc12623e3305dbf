import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readProjectionFile } from '@eskit/sqlite-store'
import { eventually } from '@eskit/test-kit'
import { createTestDatabase, serverUrl, type TestDatabase } from '@eskit/test-postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLoadClient } from './load-client.ts'
import {
  http,
  type NodeProjection,
  runYoyopass,
  startYoyopass,
  untilLive,
  type YoyopassProcess,
} from './yoyopass-process.ts'

const BUMPED = 'passes.pass_view'
const OTHERS = ['services.service_list', 'scanning.scan_log', 'scanning.daily_stats']

let database: TestDatabase
const dirs: string[] = []
const running = new Set<YoyopassProcess>()

beforeAll(async () => {
  database = await createTestDatabase(serverUrl(), 'rolling')
})
afterAll(async () => {
  await Promise.all([...running].map((node) => node.stop()))
  await database?.drop()
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-node-'))
  dirs.push(dir)
  return dir
}

async function startNode(dataDir: string, extra: string[] = []): Promise<YoyopassProcess> {
  const node = await startYoyopass([
    'serve',
    '--port',
    '0',
    '--data',
    dataDir,
    '--events',
    database.url,
    '--log-level',
    'warn',
    ...extra,
  ])
  running.add(node)
  return node
}

async function stopNode(node: YoyopassProcess): Promise<void> {
  expect(await node.stop()).toBe(0)
  running.delete(node)
}

/** Waits until `name` serves a version starting with `prefix` on the node (its rebuild swapped in). */
async function untilVersion(url: string, name: string, prefix: string): Promise<void> {
  let status: unknown
  try {
    await eventually(
      async () => {
        const listed = (await http(url, 'GET', '/projections')).body as NodeProjection[]
        const found = listed.find((s) => s.name === name)
        status = found
        return found?.state === 'live' && found.version.startsWith(prefix)
      },
      { what: `${name} swapped in`, timeoutMs: 60_000, intervalMs: 20 },
    )
  } catch (error) {
    throw new Error(`${name} not swapped in: ${JSON.stringify(status)}`, { cause: error })
  }
}

interface FileMark {
  ino: number
  position: number
  builtAt: string | null
  version: string | null
}

function marks(dataDir: string): Record<string, FileMark> {
  const result: Record<string, FileMark> = {}
  for (const name of [BUMPED, ...OTHERS]) {
    const file = path.join(dataDir, 'projections', `${name}.db`)
    const info = readProjectionFile(file)
    result[name] = {
      ino: fs.statSync(file).ino,
      position: info.position ?? -1,
      builtAt: info.builtAt,
      version: info.version,
    }
  }
  return result
}

describe('rolling deploy: two yoyopass nodes on one PostgreSQL log', () => {
  it('restarts node A then node B with a bumped view version: no read fails or goes empty, no write is lost, only that view rebuilds', {
    timeout: 180_000,
  }, async () => {
    const dirA = tempDir()
    const dirB = tempDir()
    const seeded = await runYoyopass(['seed', '--data', dirA, '--events', database.url, '--passes', '1500'])
    expect(seeded.code, seeded.stderr).toBe(0)
    const head = Number(/log position (\d+)/.exec(seeded.stdout)?.[1])
    expect(head).toBeGreaterThan(300)

    let nodeA = await startNode(dirA)
    let nodeB = await startNode(dirB)
    await untilLive(nodeA.url, head)
    await untilLive(nodeB.url, head)
    const before = { a: marks(dirA), b: marks(dirB) }

    // a load balancer's view: requests go only to nodes that are up
    const client = createLoadClient({ serviceId: 'city-pool', concurrency: 4 })
    client.up('a', nodeA.url)
    client.up('b', nodeB.url)
    client.start()
    await client.until((stats) => stats.writes >= 40)

    // node A: out of the rotation, stopped, restarted with the bumped version, back once serving
    await client.down('a')
    await stopNode(nodeA)
    await client.until((stats) => stats.writes >= 80)
    nodeA = await startNode(dirA, ['--view-version', `${BUMPED}=2`])
    client.up('a', nodeA.url)
    // node A serves while the new version is built beside the old file: requests reach it meanwhile
    const servedBefore = client.stats.answeredBy('a')
    const rebuilding = await http(nodeA.url, 'GET', '/projections')
    expect(rebuilding.body.find((s: { name: string }) => s.name === BUMPED)?.state).toBe('rebuilding')
    await untilVersion(nodeA.url, BUMPED, '2+')
    expect(client.stats.answeredBy('a')).toBeGreaterThan(servedBefore)
    await client.until((stats) => stats.writes >= 140)
    // then node B the same way
    await client.down('b')
    await stopNode(nodeB)
    await client.until((stats) => stats.writes >= 180)
    nodeB = await startNode(dirB, ['--view-version', `${BUMPED}=2`])
    client.up('b', nodeB.url)
    const servedByB = client.stats.answeredBy('b')
    const rebuildingB = await http(nodeB.url, 'GET', '/projections')
    expect(rebuildingB.body.find((s: { name: string }) => s.name === BUMPED)?.state).toBe('rebuilding')
    await untilVersion(nodeB.url, BUMPED, '2+')
    expect(client.stats.answeredBy('b')).toBeGreaterThan(servedByB)
    await client.until((stats) => stats.writes >= 240)
    const stats = await client.stop()

    const summary = {
      requests: stats.requests,
      reads: stats.reads,
      writes: stats.writes,
      failures: stats.failures.length,
      p50Ms: stats.percentile(50),
      p99Ms: stats.percentile(99),
      maxMs: stats.percentile(100),
    }
    process.stderr.write(`rolling deploy: ${JSON.stringify(summary)}\n`)
    expect(stats.failures).toEqual([])
    expect(stats.reads).toBeGreaterThan(stats.writes)

    // every acknowledged write is visible on both nodes
    const last = Math.max(...stats.acknowledged.map((w) => w.position))
    for (const node of [nodeA, nodeB]) {
      await untilLive(node.url, last)
      const ids = new Set<string>()
      for (let offset = 0; ; offset += 500) {
        const page = await http(
          node.url,
          'GET',
          `/passes?holder=rolling-deploy&limit=500&offset=${offset}&after=${last}`,
        )
        const passes = page.body.passes as Array<{ passId: string }>
        for (const pass of passes) ids.add(pass.passId)
        if (passes.length < 500) break
      }
      const missing = stats.acknowledged.filter((w) => !ids.has(w.passId)).map((w) => w.passId)
      expect(missing).toEqual([])
    }

    // only the bumped view was rebuilt, on each node
    for (const [key, dir] of [
      ['a', dirA],
      ['b', dirB],
    ] as const) {
      const after = marks(dir)
      const was = before[key]
      expect(after[BUMPED]?.version).toMatch(/^2\+/)
      expect(after[BUMPED]?.builtAt).not.toBe(was[BUMPED]?.builtAt)
      expect(after[BUMPED]?.ino).not.toBe(was[BUMPED]?.ino)
      for (const name of OTHERS) {
        expect(after[name]?.ino, `${key} ${name} inode`).toBe(was[name]?.ino)
        expect(after[name]?.builtAt, `${key} ${name} builtAt`).toBe(was[name]?.builtAt)
        expect(after[name]?.position, `${key} ${name} position`).toBeGreaterThanOrEqual(
          was[name]?.position ?? 0,
        )
      }
    }
    await stopNode(nodeA)
    await stopNode(nodeB)
  })
})

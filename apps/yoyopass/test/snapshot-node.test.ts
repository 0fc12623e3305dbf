import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readProjectionFile, snapshotProjections } from '@eskit/sqlite-store'
import { createTestDatabase, serverUrl, type TestDatabase } from '@eskit/test-postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { http, runYoyopass, startYoyopass, untilLive, type YoyopassProcess } from './yoyopass-process.ts'

let database: TestDatabase
const dirs: string[] = []
const running: YoyopassProcess[] = []

beforeAll(async () => {
  database = await createTestDatabase(serverUrl(), 'snapshot_node')
})
afterAll(async () => {
  await Promise.all(running.map((node) => node.stop()))
  await database?.drop()
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-node-'))
  dirs.push(dir)
  return dir
}

async function start(dataDir: string): Promise<YoyopassProcess> {
  const node = await startYoyopass(['serve', '--port', '0', '--data', dataDir, '--events', database.url])
  running.push(node)
  return node
}

describe('a new node started from a snapshot of a running node', () => {
  it('replays only what follows the copied checkpoints, rebuilds nothing, and answers as the node it came from', {
    timeout: 120_000,
  }, async () => {
    const dirA = tempDir()
    const dirC = tempDir()
    const seeded = await runYoyopass(['seed', '--data', dirA, '--events', database.url, '--passes', '400'])
    expect(seeded.code, seeded.stderr).toBe(0)
    const nodeA = await start(dirA)
    const head = Number((await http(nodeA.url, 'GET', '/health')).body.head)
    await untilLive(nodeA.url, head)

    // taken while node A owns its directory and serves
    const report = await snapshotProjections({
      dir: path.join(dirA, 'projections'),
      out: path.join(dirC, 'projections'),
    })
    expect(report.owned).toBe(true)
    expect(report.projections.map((p) => p.position)).toEqual([head, head, head, head])

    // more writes on node A after the snapshot
    const issued = []
    for (let i = 0; i < 20; i++) {
      const res = await http(nodeA.url, 'POST', '/passes', {
        serviceId: 'city-pool',
        holder: 'after-snapshot',
      })
      expect(res.status).toBe(201)
      issued.push(res.body as { passId: string; position: number })
    }
    const last = issued.at(-1)?.position ?? 0

    const nodeC = await start(dirC)
    const statuses = await untilLive(nodeC.url, last)
    expect(statuses.map((s) => s.position)).toEqual([last, last, last, last])
    // nothing was rebuilt: every file is the copy, its build time kept, moved on from the copied checkpoint
    for (const file of report.projections) {
      const now = readProjectionFile(file.file)
      expect(now.builtAt, file.name).toBe(file.builtAt)
      expect(now.position, file.name).toBe(last)
    }
    expect(nodeC.stderr()).not.toMatch(/projection rebuilt/)
    // the same answers on both nodes
    for (const route of [
      '/services',
      `/passes?holder=after-snapshot&limit=100&after=${last}`,
      '/stats/daily',
    ]) {
      const [a, c] = await Promise.all([http(nodeA.url, 'GET', route), http(nodeC.url, 'GET', route)])
      expect(c.status, route).toBe(200)
      expect(c.body, route).toEqual(a.body)
    }
    expect(
      (await http(nodeC.url, 'GET', `/passes?holder=after-snapshot&limit=100`)).body.passes,
    ).toHaveLength(20)
  })
})

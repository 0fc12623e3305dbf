import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { eventually } from '@eskit/test-kit'
import { type PostgresServer, startPostgres } from '@eskit/test-postgres/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { http, runYoyopass, startYoyopass, type YoyopassProcess } from './yoyopass-process.ts'

// A private server: this file stops and starts it.
let server: PostgresServer
let node: YoyopassProcess | undefined
const dirs: string[] = []
beforeAll(async () => {
  server = await startPostgres()
}, 120_000)
afterAll(async () => {
  await node?.stop()
  await server?.close()
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

/** Waits up to 30 s for `probe` to give a value (a restarted server takes its time). */
const until = <T>(probe: () => Promise<T | undefined>, what: string) =>
  eventually(probe, { what, timeoutMs: 30_000, intervalMs: 50 })

describe('yoyopass on PostgreSQL while the server is down', () => {
  it('refuses writes with 503 UNAVAILABLE, keeps serving reads, says so on /health, and resumes by itself', {
    timeout: 120_000,
  }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-node-'))
    dirs.push(dir)
    const url = server.url()
    const seeded = await runYoyopass(['seed', '--data', dir, '--passes', '50'], { YOYOPASS_EVENTS: url })
    expect(seeded.code, seeded.stderr).toBe(0)
    // the URL comes from the environment; its password is never printed
    expect(seeded.stdout + seeded.stderr).not.toContain('eskit-test')
    node = await startYoyopass(['serve', '--port', '0', '--data', dir], { YOYOPASS_EVENTS: url })
    const issued = await http(node.url, 'POST', '/passes', {
      passId: 'before',
      serviceId: 'city-pool',
      holder: 'Ada',
    })
    expect(issued.status).toBe(201)
    const before = await http(node.url, 'GET', `/passes/before?after=${issued.body.position}`)
    expect(before.body).toMatchObject({ passId: 'before', holder: 'Ada' })

    await server.stop()
    const refused = await http(node.url, 'POST', '/passes', {
      passId: 'during',
      serviceId: 'city-pool',
      holder: 'Bo',
    })
    expect(refused.status).toBe(503)
    expect(refused.body.error.code).toBe('UNAVAILABLE')
    expect(JSON.stringify(refused.body)).not.toContain('eskit-test')
    const read = await http(node.url, 'GET', '/passes/before')
    expect(read.status).toBe(200)
    expect(read.body.passId).toBe('before')
    const listed = await http(node.url, 'GET', '/passes?serviceId=city-pool&limit=5')
    expect(listed.body.passes.length).toBeGreaterThan(0)
    const health = await http(node.url, 'GET', '/health')
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', log: 'unreachable', head: null } })

    await server.start()
    const after = await until(async () => {
      const res = await http(node?.url ?? '', 'POST', '/passes', {
        passId: 'after',
        serviceId: 'city-pool',
        holder: 'Cy',
      })
      return res.status === 201 ? res : undefined
    }, 'writes to be accepted again')
    const seen = await http(node.url, 'GET', `/passes/after?after=${after.body.position}`)
    expect(seen.body).toMatchObject({ passId: 'after', holder: 'Cy' })
    // the refused write was never acknowledged: it is not there
    expect((await http(node.url, 'GET', `/passes/during?after=${after.body.position}`)).status).toBe(404)
    expect((await http(node.url, 'GET', '/health')).body).toMatchObject({
      log: 'ok',
      head: after.body.position,
    })
    expect(node.stderr()).not.toContain('eskit-test')
    expect(await node.stop()).toBe(0)
    node = undefined
  })
})

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ReliabilityRow, recordResults } from '../src/results.ts'

// The example app's HTTP API under hostile input: every request gets a clear JSON error (never a
// 500, never a hang), and afterwards the service still serves exactly the data it held.
const MAIN = new URL('../../yoyopass/dist/main.mjs', import.meta.url).pathname
const rows: ReliabilityRow[] = []
let child: ChildProcess
let url = ''
let dir = ''

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eskit-http-'))
  child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match?.[1]) resolve(match[1])
    })
    child.once('exit', (code) => reject(new Error(`yoyopass exited with ${code}`)))
  })
}, 30_000)

afterAll(async () => {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  rmSync(dir, { recursive: true, force: true })
  recordResults('http', rows)
})

const send = async (method: string, path: string, body?: string, contentType = 'application/json') => {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined ? {} : { body, headers: { 'content-type': contentType } }),
  })
  const text = await res.text()
  return { status: res.status, text }
}

/** A clear error: a 4xx status and a JSON body `{ error: { code, message } }`. */
function expectClearError(reply: { status: number; text: string }) {
  expect(reply.status).toBeGreaterThanOrEqual(400)
  expect(reply.status).toBeLessThan(500)
  const body = JSON.parse(reply.text) as { error?: { code?: unknown; message?: unknown } }
  expect(typeof body.error?.code).toBe('string')
  expect(typeof body.error?.message).toBe('string')
}

describe('yoyopass HTTP API under hostile input', () => {
  it('answers every malformed request with a clear 4xx and keeps serving the same data', {
    timeout: 120_000,
  }, async () => {
    const service = await send(
      'POST',
      '/services',
      JSON.stringify({ serviceId: 'pool', name: 'Pool', gates: ['north'] }),
    )
    expect(service.status).toBe(201)
    const pass = await send(
      'POST',
      '/passes',
      JSON.stringify({ passId: 'p-1', serviceId: 'pool', holder: 'Ada' }),
    )
    expect(pass.status).toBe(201)
    const before = await send('GET', '/passes/p-1?consistent=true')
    expect(before.status).toBe(200)

    const routes = ['/services', '/passes', '/passes/p-1/scans', '/passes/p-1/revoke']
    let tried = 0
    // Arbitrary JSON values as bodies: wrong types, missing and extra fields.
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue(), async (route, value) => {
        tried++
        const reply = await send('POST', route, JSON.stringify(value))
        // A random value can by chance be valid for a command only if it is an object with the
        // required fields; fast-check's objects practically never are.
        if (reply.status < 300) return
        expectClearError(reply)
      }),
      { numRuns: 150 },
    )
    // Malformed JSON text.
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.string({ maxLength: 60 }), async (route, text) => {
        fc.pre(!isJson(text))
        tried++
        expectClearError(await send('POST', route, text))
      }),
      { numRuns: 100 },
    )
    // Wrong field types, missing fields, oversized bodies, wrong content type, unknown routes, bad queries.
    const hand: Array<[string, string, string | undefined, string?]> = [
      ['POST', '/passes', JSON.stringify({ serviceId: 42, holder: ['x'] })],
      ['POST', '/passes', JSON.stringify({ holder: 'No Service' })],
      ['POST', '/passes', JSON.stringify({ serviceId: 'pool', holder: 'x'.repeat(100_000) })],
      [
        'POST',
        '/services',
        JSON.stringify({ name: 'x', gates: Array.from({ length: 5000 }, (_, i) => `g${i}`) }),
      ],
      ['POST', '/services', '{"name": "x", "gates": ["a"]', undefined],
      ['POST', '/services', JSON.stringify({ name: 'x', gates: ['a'] }), 'text/plain'],
      ['POST', '/passes/p-1/scans', JSON.stringify({ gate: 'north', expectedVersion: 'one' })],
      ['POST', '/passes/..%2F..%2Fetc/scans', JSON.stringify({ gate: 'north' })],
      ['GET', '/passes?limit=-5', undefined],
      ['GET', '/passes?limit=abc', undefined],
      ['GET', '/passes/p-1?after=not-a-number', undefined],
      ['GET', '/no/such/route', undefined],
      ['DELETE', '/passes/p-1', undefined],
      ['POST', '/passes', JSON.stringify({ passId: 'p-1', serviceId: 'pool', holder: 'Ada' })],
    ]
    for (const [method, path, body, type] of hand) {
      tried++
      expectClearError(await send(method, path, body, type))
    }
    const after = await send('GET', '/passes/p-1?consistent=true')
    expect(after.status).toBe(200)
    expect(JSON.parse(after.text)).toEqual(JSON.parse(before.text))
    const health = await send('GET', '/health')
    expect(health.status).toBe(200)
    rows.push({
      area: 'input',
      case: 'yoyopass HTTP API: random JSON bodies, malformed JSON, wrong types, missing fields, oversized bodies, wrong content type, unknown routes and methods, bad queries, duplicate pass (409)',
      tried,
      held: tried,
      detail:
        'fast-check + hand-picked; every reply a 4xx with a JSON error code and message; afterwards the same pass read back identical and /health was ok',
    })
  })
})

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { http } from './yoyopass-process.ts'

const DEMO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cluster-demo.mjs')
let demo: ChildProcess | undefined

afterAll(() => {
  if (demo && demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL')
})

describe('pnpm demo:cluster', () => {
  it('starts PostgreSQL and two nodes, seeds, prints what to try, and stops everything on Ctrl-C', {
    timeout: 120_000,
  }, async () => {
    const child = spawn(process.execPath, [DEMO, '--port', '0', '--passes', '40'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    demo = child
    let stdout = ''
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const urls = await new Promise<[string, string]>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk
        const match = /node A at (http:\/\/\S+), node B at (http:\/\/\S+),/.exec(stdout)
        if (match?.[1] && match[2] && stdout.includes('Add a node C')) resolve([match[1], match[2]])
      })
      void exited.then((code) => reject(new Error(`the demo exited (${code}): ${stdout}\n${stderr}`)))
    })
    const [a, b] = urls
    expect(stdout).toContain('first run of this log: seeding 40 passes')
    expect(stdout).toMatch(/curl -s -X POST http:\S+\/passes/)
    expect(stdout).toMatch(/snapshot --dir \S+node-a\/projections --out \S+node-c\/projections/)
    // the server's password is never printed
    expect(stdout + stderr).not.toContain('eskit-test')
    const root = /node A projections: (\S+)\/node-a\/projections/.exec(stdout)?.[1] ?? ''
    expect(fs.existsSync(root)).toBe(true)

    // a write on node A, read on node B at its position
    const issued = await http(a, 'POST', '/passes', {
      passId: 'demo-pass',
      serviceId: 'city-pool',
      holder: 'Ada',
    })
    expect(issued.status).toBe(201)
    const read = await http(b, 'GET', `/passes/demo-pass?after=${issued.body.position}`)
    expect(read.body).toMatchObject({ passId: 'demo-pass', holder: 'Ada' })
    expect((await http(b, 'GET', '/passes?limit=100&consistent=true')).body.passes).toHaveLength(41)

    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(stdout).toContain('stopped')
    expect(fs.existsSync(root)).toBe(false)
    await expect(fetch(`${a}/health`)).rejects.toThrow()
    await expect(fetch(`${b}/health`)).rejects.toThrow()
  })
})

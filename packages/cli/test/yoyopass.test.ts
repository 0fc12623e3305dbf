// Acceptance against the example application, as an operator would use the command: yoyopass
// (apps/yoyopass, a devDependency) runs as a real process on a per-file projection directory.
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { readProjectionFile } from '@eskit/sqlite-store'
import { eventually } from '@eskit/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RebuildOutcome } from '../src/rebuild-command.js'
import type { StatusReport } from '../src/status-command.js'
import { runEskit, snapshot, tempDir } from './helpers.js'

const YOYOPASS = path.resolve(import.meta.dirname, '../node_modules/yoyopass/dist/main.mjs')
const VIEWS = ['passes.pass_view', 'scanning.daily_stats', 'scanning.scan_log', 'services.service_list']
const TARGET = 'passes.pass_view'
const OTHERS = VIEWS.filter((name) => name !== TARGET)

interface Service {
  url: string
  pid: number
  stop(): Promise<void>
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [YOYOPASS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`yoyopass exited ${code}`))))
  })
}

function serve(data: string): Promise<Service> {
  const child: ChildProcess = spawn(process.execPath, [YOYOPASS, 'serve', '--port', '0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  let stdout = ''
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`yoyopass exited ${code} before listening: ${stderr}`)))
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const url = /^listening on (http:\/\/\S+)$/m.exec(stdout)?.[1]
      if (url === undefined) return
      resolve({
        url,
        pid: child.pid ?? 0,
        async stop() {
          child.kill('SIGTERM')
          await exited
        },
      })
    })
  })
}

async function get(url: string, route: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}${route}`)
  return { status: response.status, body: await response.json() }
}

describe('eskit against a running yoyopass', () => {
  let root: string
  let cleanup: () => void
  let data: string
  let projections: string
  let head: number
  let service: Service | null = null

  beforeAll(async () => {
    ;({ dir: root, cleanup } = tempDir())
    data = path.join(root, 'data')
    const seeded = await run(['seed', '--data', data, '--passes', '1500'])
    head = Number(/log position (\d+)/.exec(seeded)?.[1])
    projections = path.join(data, 'projections')
  })
  afterAll(async () => {
    await service?.stop()
    cleanup()
  })

  const file = (name: string): string => path.join(projections, `${name}.db`)
  const PASSES = '/passes?limit=500'

  it('status shows its projections and that the directory is owned', async () => {
    service = await serve(data)
    expect((await get(service.url, '/health')).status).toBe(200)
    // The service answers while its projections are still being built from the seeded log: wait
    // until the owner's published status shows every one live at the head.
    const status = await eventually(
      async () => {
        const run = await runEskit(['status', '--dir', projections, '--json'])
        const seen = JSON.parse(run.stdout) as StatusReport
        const atHead =
          seen.projections.length === VIEWS.length &&
          seen.projections.every(
            (p) => p.position === head && p.runtime?.state === 'live' && p.runtime.position === head,
          )
        return atHead ? run : undefined
      },
      { what: 'every projection live at the head in eskit status', timeoutMs: 30_000, intervalMs: 200 },
    )
    expect(status.code).toBe(0)
    const report = JSON.parse(status.stdout) as StatusReport
    expect(report.owned).toBe(true)
    expect(report.owner?.pid).toBe(service.pid)
    expect(report.projections.map((p) => p.name)).toEqual(VIEWS)
    for (const p of report.projections) {
      expect(p.problem).toBeNull()
      expect(p.position).toBe(head)
      expect(p.runtime).toMatchObject({ state: 'live', position: head, lag: 0 })
    }
    const human = await runEskit(['status', '--dir', projections])
    expect(human.stdout).toContain(`owned by a running process (pid ${service.pid}`)
    for (const name of VIEWS)
      expect(human.stdout).toMatch(new RegExp(`${name.replace('.', '\\.')}\\s+\\S+\\s+live\\s`))
  })

  it('rebuild --wait rebuilds passes.pass_view with progress while queries keep answering', async () => {
    if (service === null) throw new Error('yoyopass is not running')
    const { url } = service
    const expected = await get(url, PASSES)
    expect(expected.status).toBe(200)
    const builtAt = Object.fromEntries(VIEWS.map((name) => [name, readProjectionFile(file(name)).builtAt]))

    // queries go on, back to back, for the whole rebuild
    let querying = true
    const answers: { status: number; same: boolean }[] = []
    const queries = (async () => {
      while (querying) {
        const answer = await get(url, PASSES)
        answers.push({
          status: answer.status,
          same: JSON.stringify(answer.body) === JSON.stringify(expected.body),
        })
      }
    })()
    const result = await runEskit([
      'rebuild',
      TARGET,
      '--dir',
      projections,
      '--wait',
      '--timeout',
      '60',
      '--json',
    ])
    querying = false
    await queries

    expect(result.code).toBe(0)
    const outcome = JSON.parse(result.stdout) as RebuildOutcome
    expect(outcome).toMatchObject({ action: 'requested', state: 'done', position: head, interrupted: false })
    expect(result.stderr).toContain(`asked the owning process (pid ${service.pid}) to rebuild ${TARGET}`)
    expect(result.stderr).toMatch(/rebuilding passes\.pass_view: [\d,]+\/[\d,]+ events \(100%\), swapped in/)
    expect(answers.length).toBeGreaterThan(0)
    expect(answers.filter((a) => a.status !== 200 || !a.same)).toEqual([])

    // a new file for the target, the others untouched
    expect(readProjectionFile(file(TARGET)).builtAt).not.toBe(builtAt[TARGET])
    for (const name of OTHERS) expect(readProjectionFile(file(name)).builtAt).toBe(builtAt[name])
    expect(await get(url, PASSES)).toEqual(expected)
  })

  it('with the service stopped, the same command deletes just that file and the next start rebuilds just it', async () => {
    if (service === null) throw new Error('yoyopass is not running')
    const expected = await get(service.url, PASSES)
    await service.stop()
    service = null
    const before = snapshot(projections)
    const builtAt = Object.fromEntries(VIEWS.map((name) => [name, readProjectionFile(file(name)).builtAt]))

    const result = await runEskit(['rebuild', TARGET, '--dir', projections, '--wait'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`deleted ${file(TARGET)}`)
    expect(fs.existsSync(file(TARGET))).toBe(false)
    const after = snapshot(projections)
    for (const name of OTHERS) expect(after[`${name}.db`]).toEqual(before[`${name}.db`])

    service = await serve(data)
    expect((await get(service.url, '/health?consistent=true')).status).toBe(200)
    expect(await get(service.url, `${PASSES}&consistent=true`)).toEqual(expected)
    const report = JSON.parse(
      (await runEskit(['status', '--dir', projections, '--json'])).stdout,
    ) as StatusReport
    for (const p of report.projections) expect(p.position).toBe(head)
    expect(readProjectionFile(file(TARGET)).builtAt).not.toBe(builtAt[TARGET])
    for (const name of OTHERS) expect(readProjectionFile(file(name)).builtAt).toBe(builtAt[name])
  })
})

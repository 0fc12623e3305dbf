import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { eventually } from '@eskit/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { BINARY, type RunningOwner, runOwnerOnce, snapshot, startOwner, tempDir } from './helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Starts `eskit dashboard --dir DIR --port 0 ...` and resolves with the URL it prints. */
async function startDashboard(dir: string, args: readonly string[] = []): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BINARY, 'dashboard', '--dir', dir, '--port', '0', ...args],
    {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  cleanups.push(async () => {
    child.kill('SIGTERM')
    await exited
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  for await (const line of lines) {
    const url = /on (http:\/\/\S+\/) /.exec(line)?.[1]
    if (url) return url
  }
  throw new Error(`eskit dashboard did not start: ${stderr}`)
}

interface State {
  writable: boolean
  title: string
  projections: Array<{
    name: string
    state: string
    position: number
    head: number
    lag: number
    version: string
  }>
}

const stateOf = async (url: string): Promise<State> =>
  (await (await fetch(`${url}api/state`)).json()) as State

describe('eskit dashboard --dir', () => {
  it("serves the owner's published status read-only on 127.0.0.1, with no write endpoint at all", async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const owner: RunningOwner = await startOwner(dir, ['--passes', '200'])
    cleanups.push(() => owner.stop())
    const url = await startDashboard(dir)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)

    const page = await fetch(url)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<h1 id="title">')
    const state = await eventually(
      async () => {
        const current = await stateOf(url)
        return current.projections.length === 3 && current.projections.every((p) => p.state === 'live')
          ? current
          : undefined
      },
      { what: 'every projection live on the page', timeoutMs: 20_000, intervalMs: 50 },
    )
    expect(state.writable).toBe(false)
    expect(state.projections.map((p) => [p.name, p.state, p.position, p.lag])).toEqual([
      ['passes.pass_view', 'live', 600, 0],
      ['scanning.scan_log', 'live', 600, 0],
      ['services.holder_list', 'live', 600, 0],
    ])
    const metrics = await (await fetch(`${url}metrics`)).text()
    expect(metrics).toContain('eskit_projection_position{projection="passes.pass_view"} 600')
    expect(metrics).toContain('eskit_projection_state{projection="passes.pass_view",state="live"} 1')

    // no write endpoint: every write method is refused and nothing reaches the owner
    const before = snapshot(path.join(dir, '.eskit'))
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const response = await fetch(`${url}api/projections/passes.pass_view/rebuild`, {
        method,
        headers: { authorization: 'Bearer anything-at-all-0123456789', origin: url.slice(0, -1) },
      })
      expect(response.status).toBe(405)
    }
    expect(fs.existsSync(path.join(dir, '.eskit', 'requests'))).toBe(false)
    const after = snapshot(path.join(dir, '.eskit'))
    expect(Object.keys(after).filter((file) => !file.startsWith('status'))).toEqual(
      Object.keys(before).filter((file) => !file.startsWith('status')),
    )
    const report = await owner.stop()
    cleanups.pop()
    expect(report.rebuilt.filter((r) => r.name === 'passes.pass_view')).toHaveLength(1) // only the first build
  })

  it('shows a directory with no owner at each file checkpoint, stopped, and its parked events (none)', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    await runOwnerOnce(dir, ['--passes', '50'])
    const files = snapshot(dir)
    const url = await startDashboard(dir)
    const state = await stateOf(url)
    expect(state.projections.map((p) => [p.name, p.state, p.position])).toEqual([
      ['passes.pass_view', 'stopped', 150],
      ['scanning.scan_log', 'stopped', 150],
      ['services.holder_list', 'stopped', 150],
    ])
    const parked = await fetch(`${url}api/projections/passes.pass_view/parked`)
    expect(await parked.json()).toEqual({ name: 'passes.pass_view', parked: [] })
    expect((await fetch(`${url}api/projections/nothing/parked`)).status).toBe(404)
    // read-only: no file was created or changed
    expect(snapshot(dir)).toEqual(files)
  })

  it('answers a missing directory with NOT_FOUND and exit code 1', async () => {
    const child = spawn(
      process.execPath,
      [BINARY, 'dashboard', '--dir', '/nonexistent/eskit-dir', '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(1)
    expect(stderr).toContain('NOT_FOUND')
  })
})

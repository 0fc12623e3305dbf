import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventually } from '@eskit/test-kit'

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.mjs')

/** A yoyopass child process: the real `node dist/main.mjs`. */
export interface YoyopassProcess {
  child: ChildProcess
  /** The URL parsed from the `listening on URL` line. */
  url: string
  stdout(): string
  stderr(): string
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>
}

/**
 * Runs a yoyopass command to completion and returns its exit code and output.
 *
 * @example
 * ```ts
 * const { code } = await runYoyopass(['seed', '--data', dir, '--passes', '100'])
 * ```
 */
export function runYoyopass(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * Starts `node dist/main.mjs ARGS` and waits for its `listening on` line.
 *
 * @example
 * ```ts
 * const app = await startYoyopass(['serve', '--port', '0', '--data', dir])
 * await fetch(`${app.url}/health`)
 * await app.stop()
 * ```
 */
export function startYoyopass(args: string[], env: Record<string, string> = {}): Promise<YoyopassProcess> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' })
  let stdout = ''
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`yoyopass did not start in 15 s\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, 15_000)
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const match = /^listening on (http:\/\/\S+)$/m.exec(stdout)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        const url = match[1]
        resolve({
          child,
          url,
          stdout: () => stdout,
          stderr: () => stderr,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
            return exited
          },
        })
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`yoyopass exited with ${code} before listening\nstdout: ${stdout}\nstderr: ${stderr}`))
    })
  })
}

/**
 * A JSON request: status and parsed body.
 *
 * @example
 * ```ts
 * const { status, body } = await http(url, 'POST', '/passes', { serviceId: 'pool', holder: 'Ada' })
 * ```
 */
export async function http(
  base: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const init: RequestInit = { method }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    init.headers = { 'content-type': 'application/json' }
  }
  const res = await fetch(`${base}${route}`, init)
  const text = await res.text()
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined, headers: res.headers }
}

/** One projection as a node's `GET /projections` lists it. */
export interface NodeProjection {
  name: string
  version: string
  state: string
  position: number
}

/**
 * Waits until every projection of the node at `url` is live at `position` or beyond, and returns
 * them; on a timeout the error carries the last list seen.
 *
 * @example
 * ```ts
 * const statuses = await untilLive(node.url, head)
 * ```
 */
export async function untilLive(
  url: string,
  position: number,
  timeoutMs = 30_000,
): Promise<NodeProjection[]> {
  let last: unknown
  try {
    return await eventually(
      async () => {
        const statuses = (await http(url, 'GET', '/projections')).body as NodeProjection[]
        last = statuses
        return statuses.every((s) => s.state === 'live' && s.position >= position) ? statuses : undefined
      },
      { what: 'every projection live', timeoutMs, intervalMs: 50 },
    )
  } catch (error) {
    throw new Error(`projections not live at ${position}: ${JSON.stringify(last)}`, { cause: error })
  }
}

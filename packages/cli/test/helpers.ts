import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import Database from 'better-sqlite3'

export const BINARY = path.resolve(import.meta.dirname, '../dist/bin.mjs')
const OWNER = path.resolve(import.meta.dirname, 'fixtures/owner-process.ts')

export { tempDir } from '@eskit/test-kit'

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `node dist/bin.mjs ...args` (the real binary, not a TTY) and collects its output. */
export function runEskit(args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BINARY, ...args], {
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** What the owner fixture prints when it stops. */
export interface OwnerReport {
  stopped: boolean
  head: number
  rebuilt: { name: string; position: number; swapped: boolean }[]
  reads?: number
  readErrors?: string[]
}

/** Lines a child prints on stdout, parsed as JSON, handed out in order. */
function jsonLines(child: ChildProcess): () => Promise<Record<string, unknown>> {
  const queue: Record<string, unknown>[] = []
  const waiting: ((line: Record<string, unknown>) => void)[] = []
  let ended = false
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const failAll = (): void => {
    ended = true
    for (const resolve of waiting.splice(0)) resolve({ ended: true, stderr })
  }
  if (child.stdout) {
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (line) => {
      let parsed: Record<string, unknown>
      try {
        parsed = JSON.parse(line) as Record<string, unknown>
      } catch {
        return
      }
      const next = waiting.shift()
      if (next) next(parsed)
      else queue.push(parsed)
    })
    lines.on('close', failAll)
  }
  return () => {
    const line = queue.shift()
    if (line) return Promise.resolve(line)
    if (ended) return Promise.resolve({ ended: true, stderr })
    return new Promise((resolve) => waiting.push(resolve))
  }
}

export interface RunningOwner {
  pid: number
  /** SIGTERM, then what the fixture reports on a clean stop. */
  stop(): Promise<OwnerReport>
  /** SIGKILL, waits for the exit. */
  kill(): Promise<void>
}

/** Starts `test/fixtures/owner-process.ts DIR ...args` and resolves once it serves. */
export async function startOwner(dir: string, args: readonly string[] = []): Promise<RunningOwner> {
  const child = spawn(process.execPath, [OWNER, dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const next = jsonLines(child)
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const ready = await next()
  if (ready.ready !== true) throw new Error(`owner did not start: ${JSON.stringify(ready)}`)
  return {
    pid: child.pid ?? 0,
    async stop() {
      child.kill('SIGTERM')
      const report = await next()
      await exited
      return report as unknown as OwnerReport
    },
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
  }
}

/** One start of the application: the fixture catches every projection up, stops and exits. */
export async function runOwnerOnce(dir: string, args: readonly string[] = []): Promise<OwnerReport> {
  const child = spawn(process.execPath, [OWNER, dir, '--once', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const next = jsonLines(child)
  const report = await next()
  if (report.stopped !== true) throw new Error(`owner run failed: ${JSON.stringify(report)}`)
  return report as unknown as OwnerReport
}

export interface FileState {
  sha1: string
  mtimeMs: number
  size: number
}

/** Every file under `dir` (helper folders included) with its content hash and mtime. */
export function snapshot(dir: string): Record<string, FileState> {
  const result: Record<string, FileState> = {}
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      if (entry.isDirectory()) walk(full)
      else {
        const stat = fs.statSync(full)
        result[path.relative(dir, full)] = {
          sha1: createHash('sha1').update(fs.readFileSync(full)).digest('hex'),
          mtimeMs: stat.mtimeMs,
          size: stat.size,
        }
      }
    }
  }
  walk(dir)
  return result
}

/** Runs one query on a stopped projection file, read-only. */
export function query<T>(file: string, sql: string): T {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    return db.prepare(sql).get() as T
  } finally {
    db.close()
  }
}

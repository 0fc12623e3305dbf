import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach } from 'vitest'

/** Returns a function that makes a fresh temp directory, removed after the running test. */
export function useTempDirs(): () => string {
  const made: string[] = []
  afterEach(() => {
    for (const dir of made.splice(0)) {
      fs.chmodSync(dir, 0o700)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
    made.push(dir)
    return dir
  }
}

/** Every row of the log's tables, read through a separate read-only connection. */
export interface LogDump {
  events: unknown[]
  meta: unknown[]
  schema: unknown[]
}

/** Reads what the log file holds (including uncommitted-to-main WAL content), independently of the store. */
export function dumpLog(file: string): LogDump {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    return {
      events: db.prepare('SELECT * FROM events ORDER BY position').all(),
      meta: db.prepare('SELECT * FROM eskit_event_log ORDER BY key').all(),
      schema: db.prepare('SELECT * FROM eskit_event_log_schema ORDER BY version').all(),
    }
  } finally {
    db.close()
  }
}

/** Name, size and SHA-256 of every file in `dir`: equal snapshots mean nothing was written. */
export function snapshotDir(dir: string): Record<string, string> {
  const result: Record<string, string> = {}
  for (const name of fs.readdirSync(dir).sort()) {
    const content = fs.readFileSync(path.join(dir, name))
    result[name] = `${content.length}:${createHash('sha256').update(content).digest('hex')}`
  }
  return result
}

export { recordingLogger } from '@eskit/test-kit'

/** The built package, which child processes import (the test task builds the package first). */
export const DIST_ENTRY = path.resolve(import.meta.dirname, '..', 'dist', 'index.mjs')

/** Throws a clear error when the package has not been built (child processes need `dist/`). */
export function assertBuilt(): void {
  if (!fs.existsSync(DIST_ENTRY)) {
    throw new Error(`${DIST_ENTRY} is missing: run the package build before the process tests`)
  }
}

/** Awaits `promise` and returns what it rejected with (fails when it resolves). */
export async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<any> {
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection, but it resolved')
}

/** One JSON line a worker printed. */
export type WorkerLine = Record<string, any>

/** A running `test/fixtures/worker.mjs`, with the lines it printed so far. */
export interface Worker {
  readonly child: ChildProcess
  readonly lines: WorkerLine[]
  /** Resolves with the first printed line for which `match` is true (rejects if the worker exits first). */
  waitFor(match: (line: WorkerLine) => boolean): Promise<WorkerLine>
  /** Resolves with the exit code (or signal) once the worker ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
}

const WORKER = path.resolve(import.meta.dirname, 'fixtures', 'worker.mjs')

/**
 * As root, file permissions do not bind: an unprivileged worker stays uid 0 (so it reaches the
 * checkout wherever it lives, also under a 0700 directory) but runs with every capability
 * dropped (`setpriv`), so the permission bits of the files it touches apply to it as to their owner.
 */
function workerCommand(argv: string[], options: { unprivileged?: boolean }): [string, string[]] {
  if (!options.unprivileged || process.getuid?.() !== 0) return [argv[0] as string, argv.slice(1)]
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => fs.existsSync(file))
  if (!setpriv)
    throw new Error('the read-only tests run as root need setpriv (util-linux) to drop capabilities')
  return [setpriv, ['--bounding-set=-all', '--inh-caps=-all', '--', ...argv]]
}

/** Starts the worker script in a real child process (Node 24, importing the built package). */
export function startWorker(args: string[], options: { unprivileged?: boolean } = {}): Worker {
  const spawnOptions: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'] }
  const child = spawn(...workerCommand([process.execPath, WORKER, ...args], options), spawnOptions)
  const lines: WorkerLine[] = []
  const waiters: Array<{ match: (line: WorkerLine) => boolean; resolve: (line: WorkerLine) => void }> = []
  let stderr = ''
  let buffered = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      const line = JSON.parse(buffered.slice(0, newline)) as WorkerLine
      buffered = buffered.slice(newline + 1)
      lines.push(line)
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(line)
        }
      }
      newline = buffered.indexOf('\n')
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => {
      child.on('close', (code, signal) => resolve({ code, signal, stderr }))
    },
  )
  return {
    child,
    lines,
    exited,
    waitFor(match) {
      const seen = lines.find(match)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve })
        void exited.then(({ code, signal, stderr: err }) =>
          reject(new Error(`worker ended (${code ?? signal}) before the awaited line; stderr: ${err}`)),
        )
      })
    },
  }
}

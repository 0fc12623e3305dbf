import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

/** The built package, which child processes import (the test task builds the package first). */
export const DIST_ENTRY = path.resolve(import.meta.dirname, '..', 'dist', 'index.mjs')
const WORKER = path.resolve(import.meta.dirname, 'fixtures', 'worker.mjs')

/** Throws a clear error when the package has not been built (child processes need `dist/`). */
export function assertBuilt(): void {
  if (!fs.existsSync(DIST_ENTRY))
    throw new Error(`${DIST_ENTRY} is missing: build the package before the process tests`)
}

/** Runs the worker in a child process (this Node) and resolves with its last JSON line. */
export function runWorker<T = Record<string, unknown>>(args: string[], timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
    })
    child.stderr.on('data', (chunk) => {
      err += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      const last = out.trim().split('\n').pop() ?? ''
      try {
        const parsed = JSON.parse(last) as T & { error?: string }
        if (code !== 0 || parsed.error)
          reject(new Error(`worker ${args[0]} failed (${code}): ${last} ${err}`))
        else resolve(parsed)
      } catch {
        reject(new Error(`worker ${args[0]} exited ${code}: ${out} ${err}`))
      }
    })
  })
}

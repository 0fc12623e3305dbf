import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { EskitError, silentLogger } from '@eskit/core'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { sharedStore } from '../src/index.js'
import { tempDir } from './helpers.js'

const fixture = path.join(import.meta.dirname, 'fixtures', 'hold-store.mjs')
let dir: string
let cleanup: () => void
const children: ChildProcess[] = []

beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  cleanup()
})

/** Starts the fixture and resolves with its first line of output. */
async function holder(file: string): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [fixture, file], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  let output = ''
  for await (const chunk of child.stdout!) {
    output += String(chunk)
    if (output.includes('\n')) break
  }
  return { child, line: output.trim() }
}

it('one process owns the shared database; SIGKILL releases it at once', async () => {
  const file = path.join(dir, 'app.db')
  const first = await holder(file)
  expect(first.line).toBe('ready')

  const second = await holder(file)
  expect(second.line).toBe('error LOCKED')

  const here = sharedStore({ path: file })
  const refused = await here.open({ logId: 'log-1', logger: silentLogger }).catch((error: unknown) => error)
  expect(refused).toBeInstanceOf(EskitError)
  expect((refused as EskitError).code).toBe('LOCKED')

  first.child.kill('SIGKILL')
  await once(first.child, 'exit')
  const after = sharedStore({ path: file })
  await after.open({ logId: 'log-1', logger: silentLogger })
  await after.close()
})

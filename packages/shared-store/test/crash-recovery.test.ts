import { spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { tempDir } from './helpers.js'
import { dumpTables } from './shared-fixture.js'

const fixture = path.join(import.meta.dirname, 'fixtures', 'crash-collector.mjs')
let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

/** Runs the fixture; with `killAfter`, SIGKILLs it once it reported applying that many batches. */
async function run(args: string[], killAfter?: number): Promise<string> {
  const child = spawn(process.execPath, [fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  let batches = 0
  child.stdout.on('data', (chunk) => {
    output += String(chunk)
    batches = output.split('\n').filter((line) => line.startsWith('batch ')).length
    if (killAfter !== undefined && batches >= killAfter && child.exitCode === null) {
      // a few milliseconds later: lands inside a later batch, not right after this one
      setTimeout(() => child.kill('SIGKILL'), batches % 3)
    }
  })
  const [code, signal] = await once(child, 'exit')
  if (killAfter !== undefined) expect(signal).toBe('SIGKILL')
  else expect(code).toBe(0)
  return output
}

it('killed with SIGKILL again and again, also mid-rebuild, ends equal to a clean build from scratch', {
  timeout: 60_000,
}, async () => {
  const eventsPath = path.join(dir, 'events.db')
  const log = openSqliteEventStore({ path: eventsPath })
  for (let stream = 0; stream < 150; stream++) {
    const id = `p${stream}`
    await log.append(`pass-${stream}`, [
      { type: 'Issued', data: { id, holder: `h${stream % 7}` } },
      ...Array.from({ length: 59 }, () => ({ type: 'Scanned', data: { id } })),
    ])
  }
  const head = await log.head()
  await log.close()
  expect(head).toBe(9000)

  const crashed = path.join(dir, 'crashed.db')
  const checkpoints = (): { version: string; position: number }[] => {
    const db = new Database(crashed, { readonly: true })
    const rows = db.prepare('SELECT version, position FROM _eskit_projections ORDER BY name').all()
    db.close()
    return rows as { version: string; position: number }[]
  }
  await run([eventsPath, crashed, '1', 'until-killed'], 3)
  // killed partway through the catch-up
  expect(checkpoints().some((row) => row.position < head)).toBe(true)
  await run([eventsPath, crashed, '1', 'until-killed'], 20)
  // a new version: the in-place rebuild is killed partway, twice
  await run([eventsPath, crashed, '2', 'until-killed'], 10)
  expect(checkpoints().some((row) => row.version === '2' && row.position < head)).toBe(true)
  await run([eventsPath, crashed, '2', 'until-killed'], 25)
  expect(await run([eventsPath, crashed, '2', 'to-head'])).toContain('done')

  const clean = path.join(dir, 'clean.db')
  await run([eventsPath, clean, '2', 'to-head'])

  const a = new Database(crashed, { readonly: true })
  const b = new Database(clean, { readonly: true })
  const tables = ['passes', 'tally']
  expect(dumpTables(a, tables)).toEqual(dumpTables(b, tables))
  expect(a.prepare('SELECT name, version, position FROM _eskit_projections ORDER BY name').all()).toEqual([
    { name: 'passes.view', version: '2', position: head },
    { name: 'scans.tally', version: '2', position: head },
  ])
  // nothing applied twice: every scan position appears once
  const positions = (a.prepare('SELECT positions FROM tally').pluck().all() as string[]).flatMap((p) =>
    p.split(','),
  )
  expect(new Set(positions).size).toBe(positions.length)
  expect(positions).toHaveLength(150 * 59)
  a.close()
  b.close()
})

import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { openSqliteEventStore } from '../src/open-sqlite-event-store.js'
import { assertBuilt, dumpLog, snapshotDir, startWorker, useTempDirs } from './helpers.js'

// Permissions are checked in a child process: as root (containers, CI) it drops every capability,
// because root with its capabilities is never refused a write.
const tempDir = useTempDirs()
beforeAll(assertBuilt)

/** A directory the unprivileged worker can reach, with a subdirectory `dir` for the test. */
function reachableDir(): string {
  const base = tempDir()
  fs.chmodSync(base, 0o755)
  const dir = path.join(base, 'dir')
  fs.mkdirSync(dir)
  return dir
}

async function tryAsUnprivileged(file: string, restore: () => void): Promise<Record<string, any>> {
  const worker = startWorker(['try', file], { unprivileged: true })
  try {
    const { code, stderr } = await worker.exited
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    return Object.fromEntries(worker.lines.map((line) => [line.step, line]))
  } finally {
    restore()
  }
}

async function seed(file: string): Promise<void> {
  const store = openSqliteEventStore({ path: file })
  await store.append('a', [
    { type: 'T', data: 1 },
    { type: 'T', data: 2 },
  ])
  await store.close()
}

// Real processes on a busy machine: generous time, no timing assertions.
describe('a read-only location', { timeout: 60_000 }, () => {
  it('refuses to create a log in a read-only directory with READ_ONLY, creating nothing', async () => {
    const dir = reachableDir()
    fs.chmodSync(dir, 0o555)
    const steps = await tryAsUnprivileged(path.join(dir, 'events.db'), () => fs.chmodSync(dir, 0o755))
    expect(steps.open).toMatchObject({ code: 'READ_ONLY' })
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it('refuses an existing log in a read-only directory with READ_ONLY, leaving every file as it was', async () => {
    const dir = reachableDir()
    const file = path.join(dir, 'events.db')
    await seed(file)
    const before = snapshotDir(dir)
    fs.chmodSync(dir, 0o555)
    const steps = await tryAsUnprivileged(file, () => fs.chmodSync(dir, 0o755))
    expect(steps.open).toMatchObject({ code: 'READ_ONLY', message: expect.stringMatching(/read-only/) })
    expect(snapshotDir(dir)).toEqual(before)
  })

  it('reads a read-only log file and refuses appends with READ_ONLY, the file unchanged', async () => {
    const dir = reachableDir()
    const file = path.join(dir, 'events.db')
    await seed(file)
    const before = dumpLog(file)
    const bytes = fs.readFileSync(file)
    fs.chmodSync(file, 0o444)
    // the directory stays writable so SQLite may keep its shared-memory file beside the log
    fs.chmodSync(dir, 0o777)
    const steps = await tryAsUnprivileged(file, () => {
      fs.chmodSync(dir, 0o755)
      fs.chmodSync(file, 0o644)
    })
    expect(steps.open).toMatchObject({ ok: true })
    expect(steps.head).toMatchObject({ ok: true, result: 2 })
    expect(steps.readAll).toMatchObject({ ok: true, result: 2 })
    expect(steps.append).toMatchObject({ code: 'READ_ONLY' })
    expect(fs.readFileSync(file).equals(bytes)).toBe(true)
    expect(dumpLog(file)).toEqual(before)
  })
})

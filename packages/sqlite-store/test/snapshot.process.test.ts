import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createCollector, type EventStore, type Projection, type RebuiltInfo } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import {
  isDirectoryOwned,
  readProjectionFile,
  type SnapshotReport,
  snapshotProjections,
} from '../src/index.js'
import { sqliteStore } from '../src/sqlite-store.js'
import { defer, recordingLogger, tempDir } from './support.js'

const CHILD = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url))
const NAMES = ['a', 'b', 'c']

/** The child fixture owning `dir` over the log `log` (projections a, b, c at version 1). */
async function startOwner(dir: string, log: string) {
  const proc = spawn(process.execPath, [CHILD], {
    env: {
      ...process.env,
      ESKIT_CHILD: JSON.stringify({ mode: 'collect', dir, log, projections: { a: '1', b: '1', c: '1' } }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  defer(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    await exited
  })
  let stderr = ''
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if ((JSON.parse(line) as { ready?: boolean }).ready === true) resolve()
    })
    proc.once('exit', () => reject(new Error(`the owner exited before serving: ${stderr}`)))
  })
  return {
    async kill() {
      proc.kill('SIGKILL')
      await exited
    },
    async stop() {
      proc.kill('SIGTERM')
      await exited
    },
  }
}

async function append(events: EventStore, count: number): Promise<void> {
  let n = await events.head()
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, () => ({ type: 'Tick', data: { n: ++n } }))
    await events.append(`stream-${n % 7}`, batch)
  }
}

async function until(probe: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const positionOf = (file: string): number | null => readProjectionFile(file).position

/** The rows of a copied file: the child writes `1:{n}` at each event's position. */
function rowsOf(file: string): Array<{ position: number; value: string }> {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    return db.prepare('select position, value from rows order by position').all() as Array<{
      position: number
      value: string
    }>
  } finally {
    db.close()
  }
}

const expected = (upTo: number) =>
  Array.from({ length: upTo }, (_, i) => ({ position: i + 1, value: `1:${i + 1}` }))

/** A node on `dir` running the child's projections, counting what each applies. */
function counting(name: string): Projection<Database.Database> & { applied: number } {
  const projection = {
    name,
    version: '1',
    applied: 0,
    setup(db: Database.Database) {
      db.exec('create table rows (position integer primary key, value text not null)')
    },
    apply(events: readonly { position: number; data: unknown }[], db: Database.Database) {
      const insert = db.prepare('insert into rows (position, value) values (?, ?)')
      for (const event of events) insert.run(event.position, `1:${(event.data as { n: number }).n}`)
      projection.applied += events.length
    },
  }
  return projection
}

describe('process level: snapshots', () => {
  it('copies the files of an owner that keeps writing; a node started on the copies replays only what came after', {
    timeout: 60_000,
  }, async () => {
    const root = tempDir()
    const dir = path.join(root, 'node-a')
    const log = path.join(root, 'events.db')
    const events = openSqliteEventStore({ path: log })
    defer(() => events.close())
    await append(events, 500)
    const owner = await startOwner(dir, log)
    for (const name of NAMES)
      await until(() => positionOf(path.join(dir, `${name}.db`)) === 500, `${name} at 500`)

    // the owner applies a steady stream of appends while the snapshots are taken
    let writing = true
    const writer = (async () => {
      while (writing) {
        await append(events, 20)
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    })()
    const reports: SnapshotReport[] = []
    const movedDuringCopy: boolean[] = []
    for (let round = 0; round < 3; round++) {
      const before = await events.head()
      // wait until the owner has applied something new, so each snapshot lands mid-stream
      await until(() => (positionOf(path.join(dir, 'a.db')) ?? 0) > before, 'the owner to apply new events')
      // one page per step: the owner commits between the steps of one copy
      const live: Record<string, number[]> = {}
      reports.push(
        await snapshotProjections({
          dir,
          out: path.join(root, `snapshot-${round}`),
          pagesPerStep: 1,
          onProgress(p) {
            live[p.name] ??= []
            live[p.name]?.push(positionOf(path.join(dir, `${p.name}.db`)) ?? 0)
          },
        }),
      )
      movedDuringCopy.push(Object.values(live).some((seen) => (seen.at(-1) ?? 0) > (seen[0] ?? 0)))
    }
    writing = false
    await writer
    expect(isDirectoryOwned(dir)).toBe(true)

    for (const report of reports) {
      expect(report.owned).toBe(true)
      expect(report.projections.map((p) => p.name)).toEqual(NAMES)
      expect(fs.readdirSync(report.out).sort()).toEqual(['a.db', 'b.db', 'c.db'])
      for (const file of report.projections) {
        // consistent: exactly the rows of the events up to the checkpoint inside the copy
        expect(file.position).toBeGreaterThan(500)
        expect(rowsOf(file.file)).toEqual(expected(file.position))
        expect(fs.readFileSync(file.file)[18]).toBe(1)
      }
    }
    // the owner committed batches while files were being copied
    expect(movedDuringCopy).toContain(true)
    // the snapshots were taken while the positions moved on
    const positions = reports.map((r) => r.projections[0]?.position ?? 0)
    expect(positions[2]).toBeGreaterThan(positions[0] ?? 0)
    await owner.stop()

    const last = reports[2] as SnapshotReport
    await append(events, 33)
    const head = await events.head()
    const projections = NAMES.map(counting)
    const rebuilt: RebuiltInfo[] = []
    const node = createCollector({ events, store: sqliteStore({ dir: last.out }), logger: recordingLogger() })
    for (const projection of projections) node.add(projection)
    node.on('rebuilt', (info: RebuiltInfo) => rebuilt.push(info))
    defer(() => node.stop())
    await node.start()
    await node.waitFor(head, { timeoutMs: 20_000 })
    expect(rebuilt).toEqual([])
    for (const projection of projections) {
      const copied = last.projections.find((p) => p.name === projection.name)
      expect(projection.applied).toBe(head - (copied?.position ?? 0))
    }
    await node.stop()
    for (const name of NAMES) expect(rowsOf(path.join(last.out, `${name}.db`))).toEqual(expected(head))
  })

  it('copies the files an owner left when it was killed (WAL not yet folded back) without touching the original', {
    timeout: 30_000,
  }, async () => {
    const root = tempDir()
    const dir = path.join(root, 'node-a')
    const log = path.join(root, 'events.db')
    const events = openSqliteEventStore({ path: log })
    defer(() => events.close())
    await append(events, 200)
    const owner = await startOwner(dir, log)
    for (const name of NAMES)
      await until(() => positionOf(path.join(dir, `${name}.db`)) === 200, `${name} at 200`)
    await owner.kill()
    // the kill left each file in WAL mode with its -wal beside it
    expect(fs.existsSync(path.join(dir, 'a.db-wal'))).toBe(true)

    const report = await snapshotProjections({ dir, out: path.join(root, 'snapshot') })
    expect(report.owned).toBe(false)
    for (const file of report.projections) {
      expect(file.position).toBe(200)
      expect(rowsOf(file.file)).toEqual(expected(200))
    }
    expect(fs.readdirSync(report.out).sort()).toEqual(['a.db', 'b.db', 'c.db'])
    // the source still holds all of its data for the next owner
    for (const name of NAMES) expect(readProjectionFile(path.join(dir, `${name}.db`)).position).toBe(200)
  })
})

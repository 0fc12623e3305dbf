import fs from 'node:fs'
import path from 'node:path'
import {
  type Collector,
  createCollector,
  type NewEvent,
  type ProgressInfo,
  type Projection,
} from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import { dumpProjectionFile, recordingLogger, tempDir } from '@eskit/test-kit'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { perEventPassView } from './fixtures.js'
import { workerPassView, workerRevokedView, workerTotalsView } from './worker-views.js'

const views = [workerPassView, workerTotalsView, workerRevokedView] as unknown as Projection[]
const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A log file of `passes` passes, each issued, scanned twice, every fifth revoked, one poison revoke. */
async function seedLog(dir: string, passes: number): Promise<{ file: string; head: number }> {
  const file = path.join(dir, 'events.db')
  // no fsync per append: the seed only has to be readable
  const events = openSqliteEventStore({ path: file, synchronous: 'NORMAL' })
  let head = 0
  for (let i = 0; i < passes; i++) {
    const id = `pass-${i}`
    const batch: NewEvent[] = [
      { type: 'PassIssued', data: { passId: id, holder: `holder ${i % 97}` } },
      {
        type: 'PassScanned',
        data: { passId: id, at: `2026-01-01T00:${String(i % 60).padStart(2, '0')}:00Z` },
      },
      { type: 'PassScanned', data: { passId: id, at: '2026-01-02T00:00:00Z' } },
    ]
    if (i % 5 === 0) batch.push({ type: 'PassRevoked', data: { passId: id } })
    if (i === Math.floor(passes / 2)) batch.push({ type: 'PassRevoked', data: { passId: 'poison' } })
    head = (await events.append(id, batch)).position
  }
  await events.close()
  return { file, head }
}

interface Run {
  collector: Collector
  logger: ReturnType<typeof recordingLogger>
  progress: ProgressInfo[]
  dir: string
}

function run(logFile: string, dir: string, buildWorkers: number, projections = views): Run {
  const logger = recordingLogger()
  const events = openSqliteEventStore({ path: logFile })
  const collector = createCollector({
    events,
    store: sqliteStore({ dir }),
    logger,
    batchSize: 50,
    onError: 'skip',
    buildWorkers,
  })
  for (const projection of projections) collector.add(projection)
  const progress: ProgressInfo[] = []
  collector.on('progress', (info: ProgressInfo) => progress.push(info))
  cleanups.push(async () => {
    await collector.stop()
    await events.close()
  })
  return { collector, logger, progress, dir }
}

/** Resolves once every projection named was rebuilt (the 'rebuilt' event, after the swap). */
function rebuilt(collector: Collector, names: readonly string[]): Promise<void> {
  const left = new Set(names)
  return new Promise((resolve) => {
    const off = collector.on('rebuilt', (info: { name: string }) => {
      left.delete(info.name)
      if (left.size === 0) {
        off()
        resolve()
      }
    })
  })
}

const lent = (logger: Run['logger'], name: string): number =>
  logger.find('debug', 'lent to a worker').filter((line) => line.fields?.name === name).length

const names = views.map((view) => view.name)

// worker threads start in tens of milliseconds, more on a machine loaded by other test files
describe('parallel builds in worker threads', { timeout: 30_000 }, () => {
  it('builds several views in workers with the same dumps as the main thread, also on rebuild()', async () => {
    const { dir: root, cleanup } = tempDir('eskit-parallel-')
    cleanups.push(cleanup)
    const { file, head } = await seedLog(root, 500)

    const serial = run(file, path.join(root, 'serial'), 0)
    const serialDone = rebuilt(serial.collector, names)
    await serial.collector.start()
    await serialDone
    await serial.collector.waitFor(head)
    expect(serial.logger.find('debug', 'lent to a worker')).toEqual([])

    const parallel = run(file, path.join(root, 'parallel'), 3)
    const parallelDone = rebuilt(parallel.collector, names)
    await parallel.collector.start()
    await parallelDone
    await parallel.collector.waitFor(head)
    for (const name of names) {
      expect(lent(parallel.logger, name)).toBeGreaterThanOrEqual(1)
      expect(parallel.collector.status().find((s) => s.name === name)?.position).toBe(head)
    }
    // three free workers for three builds at checkpoint 0: one each from the start, none kept back
    const lentFromStart = parallel.logger
      .find('debug', 'projection build lent to a worker')
      .filter((line) => line.fields?.from === 0)
      .map((line) => line.fields?.name)
    expect(lentFromStart.sort()).toEqual([...names].sort())
    for (const name of ['worker.passes', 'worker.totals']) {
      // progress while the worker built it: a position short of the target
      expect(parallel.progress.some((p) => p.name === name && p.position > 0 && p.position < p.target)).toBe(
        true,
      )
    }
    // the poison revoke failed in the worker, then was parked on the main thread per onError
    expect(parallel.logger.has('warn', 'build worker of the projection failed')).toBe(true)
    expect((await parallel.collector.parked('worker.revoked')).map((p) => p.event.data)).toEqual([
      { passId: 'poison' },
    ])
    expect(await serial.collector.parked('worker.revoked')).toHaveLength(1)

    await serial.collector.stop()
    await parallel.collector.stop()
    for (const name of names) {
      const serialDump = dumpProjectionFile(path.join(root, 'serial', `${name}.db`)).sha256
      expect(dumpProjectionFile(path.join(root, 'parallel', `${name}.db`)).sha256).toBe(serialDump)
    }

    // a requested rebuild goes to a worker too, beside the serving file, and ends equal
    const again = run(file, path.join(root, 'parallel'), 2)
    await again.collector.start()
    expect(again.collector.status().every((s) => s.position === head)).toBe(true)
    await again.collector.rebuild('worker.passes')
    expect(lent(again.logger, 'worker.passes')).toBe(1)
    await again.collector.stop()
    expect(dumpProjectionFile(path.join(root, 'parallel', 'worker.passes.db')).sha256).toBe(
      dumpProjectionFile(path.join(root, 'serial', 'worker.passes.db')).sha256,
    )
  })

  it('stop() during worker builds discards them; the next start builds them again', async () => {
    const { dir: root, cleanup } = tempDir('eskit-parallel-')
    cleanups.push(cleanup)
    const { file, head } = await seedLog(root, 500)
    const dir = path.join(root, 'projections')

    const first = run(file, dir, 3)
    const stoppedDuring = new Promise<string>((resolve) => {
      first.collector.on('progress', (info: ProgressInfo) => {
        if (info.position > 0 && info.position < info.target) {
          void first.collector.stop().then(() => resolve(info.name))
        }
      })
    })
    await first.collector.start()
    const interrupted = await stoppedDuring
    expect(fs.readdirSync(path.join(dir, '.eskit', 'builds'))).toEqual([])
    // nothing half-built was swapped in: a live file holds the empty first version or a whole build
    const positionOf = (name: string): number => {
      const db = new Database(path.join(dir, `${name}.db`), { readonly: true })
      const row = db.prepare('select position from _eskit_projection').get() as { position: number }
      db.close()
      return row.position
    }
    expect(positionOf(interrupted)).toBe(0)
    for (const name of names) expect([0, head]).toContain(positionOf(name))

    const second = run(file, dir, 3)
    const done = rebuilt(
      second.collector,
      names.filter((name) => positionOf(name) === 0),
    )
    await second.collector.start()
    await done
    await second.collector.waitFor(head)
    expect(second.collector.status().map((s) => s.position)).toEqual([head, head, head])
  })

  it('builds a projection that cannot be loaded in a worker on the main thread, saying why once', async () => {
    const { dir: root, cleanup } = tempDir('eskit-parallel-')
    cleanups.push(cleanup)
    const { file, head } = await seedLog(root, 300)
    const plain = perEventPassView('plain.passes') as unknown as Projection
    const mixed = run(file, path.join(root, 'projections'), 2, [
      plain,
      workerPassView as unknown as Projection,
    ])
    const done = rebuilt(mixed.collector, ['plain.passes', 'worker.passes'])
    await mixed.collector.start()
    await done
    await mixed.collector.waitFor(head)
    const why = mixed.logger.find('info', 'builds on the main thread')
    expect(why.map((line) => [line.fields?.name, line.fields?.reason])).toEqual([
      ['plain.passes', 'the projection has no source (module and export) to load in a worker'],
    ])
    expect(lent(mixed.logger, 'plain.passes')).toBe(0)
    expect(lent(mixed.logger, 'worker.passes')).toBe(1)
    await mixed.collector.rebuild('plain.passes')
    expect(mixed.logger.find('info', 'builds on the main thread')).toHaveLength(1)
  })
})

import path from 'node:path'
import { createCollector, createMemoryEventStore, type RebuiltInfo } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.js'
import { hashFile, holderProjection, passView, richProjection } from '../test/shared-fixture.js'
import { appendWorkload, runToHead, spyOnReads } from '../test/workload.js'
import { migrateSharedToFiles } from './migrate-shared-to-files.js'
import { sharedStore } from './shared-store.js'

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

const TABLES = {
  'passes.view': ['passes'],
  'holders.count': ['holder_counts'],
  'rich.view': ['log', 'loose', 'totals', 'notes'],
}
const projections = [passView, holderProjection, richProjection]

it('after migrateSharedToFiles a collector on sqliteStore replays zero events and serves identical results', async () => {
  const file = path.join(dir, 'app.db')
  const projectionsDir = path.join(dir, 'projections')
  const log = createMemoryEventStore()
  const head = await appendWorkload(log, 300, 3)
  const before = await runToHead(log, sharedStore({ path: file }), projections, TABLES, head)
  const sourceHash = hashFile(file)

  const report = await migrateSharedToFiles({ from: file, dir: projectionsDir })
  expect(report.projections.map((p) => [p.name, p.position])).toEqual([
    ['holders.count', head],
    ['passes.view', head],
    ['rich.view', head],
  ])
  expect(hashFile(file)).toBe(sourceHash)

  // Start on the per-file directory: serving at once, nothing read from the log, nothing rebuilt.
  const spy = spyOnReads(log)
  const collector = createCollector({
    events: spy.events,
    store: sqliteStore({ dir: projectionsDir }),
    onError: 'skip',
  })
  for (const projection of projections) collector.add(projection)
  const rebuilt: RebuiltInfo[] = []
  collector.on('rebuilt', (info) => rebuilt.push(info))
  await collector.start()
  expect(collector.status().map((s) => [s.name, s.position])).toEqual(projections.map((p) => [p.name, head]))
  await collector.waitFor(head, { timeoutMs: 10_000 })
  expect(spy.reads).toEqual([])
  expect(rebuilt).toEqual([])
  const passes = collector.reader<Database.Database>('passes.view')
  expect(passes.prepare('SELECT count(*) AS n, sum(scans) AS scans FROM passes').get()).toEqual({
    n: 301,
    scans: 900,
  })
  expect(await collector.parked('holders.count')).toEqual([
    expect.objectContaining({ position: head, streamId: 'poison-0', type: 'Issued' }),
  ])

  // It carries on from the copied checkpoints: new events only.
  const newHead = await appendWorkload(spy.events, 20, 1, 300)
  await collector.waitFor(newHead, { timeoutMs: 10_000 })
  expect(spy.reads.length).toBeGreaterThan(0)
  expect(Math.min(...spy.reads)).toBe(head + 1)
  await collector.stop()

  // Identical to the shared database (which the migration left as it was) run to the same head.
  const after = await runToHead(log, sqliteStore({ dir: projectionsDir }), projections, TABLES, newHead)
  const sharedAfter = await runToHead(log, sharedStore({ path: file }), projections, TABLES, newHead)
  expect(after.results).toEqual(sharedAfter.results)
  expect(after.parked).toEqual(sharedAfter.parked)
  expect(sharedAfter.results).not.toEqual(before.results)
})

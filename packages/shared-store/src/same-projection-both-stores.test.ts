import path from 'node:path'
import { createMemoryEventStore } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { passProjection, tempDir } from '../test/helpers.js'
import { holderProjection, passView, richProjection } from '../test/shared-fixture.js'
import { appendWorkload, runToHead } from '../test/workload.js'
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
  'passes.async': ['async_passes'],
}

it('one projection definition gives identical query results on sharedStore and sqliteStore', async () => {
  const events = createMemoryEventStore()
  const head = await appendWorkload(events, 400, 3)
  // The very same objects go to both collectors: no store-specific code in a projection.
  const projections = [
    passView,
    holderProjection,
    richProjection,
    passProjection('passes.async', { table: 'async_passes', async: true }),
  ]

  const shared = await runToHead(
    events,
    sharedStore({ path: path.join(dir, 'app.db') }),
    projections,
    TABLES,
    head,
  )
  const files = await runToHead(
    events,
    sqliteStore({ dir: path.join(dir, 'projections') }),
    projections,
    TABLES,
    head,
  )

  expect(files.results).toEqual(shared.results)
  expect(files.parked).toEqual(shared.parked)
  // and the results are the workload's, not two identical mistakes
  expect(shared.results['passes.view']?.passes).toHaveLength(401)
  const passes = shared.results['passes.view']?.passes as { id: string; scans: bigint }[]
  expect(passes.filter((row) => row.scans === 3n)).toHaveLength(400)
  expect(shared.results['holders.count']?.holder_counts).toHaveLength(9)
  expect(shared.results['rich.view']?.log).toHaveLength(head)
  expect(shared.parked['holders.count']).toEqual([
    {
      position: head,
      streamId: 'poison-0',
      type: 'Issued',
      error: expect.stringContaining('holder missing'),
    },
  ])
})

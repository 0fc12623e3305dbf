import path from 'node:path'
import type { StoredEvent } from '@eskit/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { openSqliteEventStore } from '../src/open-sqlite-event-store.js'
import { assertBuilt, startWorker, useTempDirs } from './helpers.js'

const tempDir = useTempDirs()
beforeAll(assertBuilt)

// Real processes on a busy machine: generous time, no timing assertions.
describe('a process killed while appending (SIGKILL)', { timeout: 60_000 }, () => {
  it('leaves only whole appends, every committed one kept, positions gap-free, and the log writable', async () => {
    const file = path.join(tempDir(), 'events.db')
    const committed = new Set<string>()
    // three runs, killed after a different number of commits each time
    for (const [run, killAfter] of [
      ['r0', 5],
      ['r1', 17],
      ['r2', 31],
    ] as const) {
      const worker = startWorker(['batches', file, run])
      await worker.waitFor((line) => line.step === 'committed' && line.batch >= killAfter)
      worker.child.kill('SIGKILL')
      const { signal } = await worker.exited
      expect(signal).toBe('SIGKILL')
      for (const line of worker.lines) if (line.step === 'committed') committed.add(`${run}/${line.batch}`)
    }

    const store = openSqliteEventStore({ path: file })
    try {
      const all = await store.readAll({ after: 0, limit: 100_000 })
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1))
      const batches = new Map<string, StoredEvent[]>()
      for (const event of all) {
        const { name, batch } = event.data as { name: string; batch: number }
        const key = `${name}/${batch}`
        batches.set(key, [...(batches.get(key) ?? []), event])
      }
      for (const [key, events] of batches) {
        // all 20 events of an append or none, at consecutive positions
        expect(
          events.map((e) => (e.data as { index: number }).index),
          key,
        ).toEqual(Array.from({ length: 20 }, (_, i) => i))
        const first = (events[0] as StoredEvent).position
        expect(events.map((e) => e.position)).toEqual(Array.from({ length: 20 }, (_, i) => first + i))
      }
      // a commit the worker reported is never lost (synchronous=FULL); at most one more made it to disk
      // between its commit and its report, per run
      for (const key of committed) expect(batches.has(key), key).toBe(true)
      expect(batches.size - committed.size).toBeLessThanOrEqual(3)
      const head = await store.head()
      expect(head).toBe(all.length)
      expect(await store.append('after-crash', [{ type: 'T', data: 1 }])).toEqual({
        position: head + 1,
        streamVersion: 1,
      })
    } finally {
      await store.close()
    }
  })
})

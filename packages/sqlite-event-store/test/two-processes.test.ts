import path from 'node:path'
import type { StoredEvent } from '@eskit/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { openSqliteEventStore } from '../src/open-sqlite-event-store.js'
import { assertBuilt, dumpLog, startWorker, useTempDirs } from './helpers.js'

const tempDir = useTempDirs()
beforeAll(assertBuilt)

async function readEverything(store: ReturnType<typeof openSqliteEventStore>): Promise<StoredEvent[]> {
  const all: StoredEvent[] = []
  for (;;) {
    const page = await store.readAll({
      after: all.length === 0 ? 0 : (all[all.length - 1] as StoredEvent).position,
      limit: 500,
    })
    if (page.length === 0) return all
    all.push(...page)
  }
}

// Real processes on a busy machine: generous time, no timing assertions.
describe('several processes on one log file', { timeout: 60_000 }, () => {
  it('appends from two other processes and this one interleave safely, and this one sees them all', async () => {
    const file = path.join(tempDir(), 'events.db')
    const store = openSqliteEventStore({ path: file })
    try {
      const heads: number[] = []
      store.onAppend((head) => heads.push(head))
      const perWorker = 100
      const workers = ['left', 'right'].map((name) => startWorker(['append', file, name, String(perWorker)]))
      for (const worker of workers) expect((await worker.waitFor((l) => l.step === 'open')).id).toBe(store.id)

      // this process appends too, while the others run
      let own = 0
      const running = Promise.all(workers.map((w) => w.exited))
      let done = false
      void running.then(() => {
        done = true
      })
      let sawOthersWhileRunning = false
      while (!done) {
        own += 1
        const result = await store.append('main', [{ type: 'Main', data: { own } }])
        expect(heads[heads.length - 1]).toBe(result.position)
        // positions above our own count can only come from the other processes: no cached head
        if ((await store.head()) > own + 20 && !done) sawOthersWhileRunning = true
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      for (const { code, stderr } of await running) expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      expect(sawOthersWhileRunning).toBe(true)

      const all = await readEverything(store)
      const total = own + 2 * perWorker * 4 // per iteration: 3 own-stream events + 1 shared
      expect(await store.head()).toBe(total)
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
      // every stream's versions are 1..n in position order
      const streams = new Map<string, number[]>()
      for (const event of all)
        streams.set(event.streamId, [...(streams.get(event.streamId) ?? []), event.streamVersion])
      for (const [streamId, versions] of streams) {
        expect(versions, streamId).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1))
      }
      // the shared stream, written with expectedVersion from both processes, has each append exactly once
      const shared = all
        .filter((e) => e.streamId === 'shared')
        .map((e) => e.data as { name: string; i: number })
      expect(shared.length).toBe(2 * perWorker)
      for (const name of ['left', 'right']) {
        expect(
          shared
            .filter((d) => d.name === name)
            .map((d) => d.i)
            .sort((a, b) => a - b),
        ).toEqual(Array.from({ length: perWorker }, (_, i) => i))
      }
      // the other processes' appends do not call this process's listeners
      expect(heads.length).toBe(own)
      // a type-filtered read across everything the others wrote
      const typeA = await store.readAll({ after: 0, limit: 10_000, types: ['A', 'Main'] })
      expect(typeA.length).toBe(own + 2 * perWorker)
    } finally {
      await store.close()
    }
  })

  it('processes creating the same new log at once all get one log with one id', async () => {
    const file = path.join(tempDir(), 'fresh', 'events.db')
    const workers = Array.from({ length: 4 }, (_, i) => startWorker(['append', file, `w${i}`, '1']))
    const ids = await Promise.all(workers.map(async (w) => (await w.waitFor((l) => l.step === 'open')).id))
    for (const { code, stderr } of await Promise.all(workers.map((w) => w.exited))) {
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    }
    expect(new Set(ids).size).toBe(1)
    const dump = dumpLog(file)
    expect(dump.schema.length).toBe(1)
    expect(dump.meta).toContainEqual({ key: 'id', value: ids[0] })
    expect(dump.events.length).toBe(4 * 4)
  })
})

import { Worker } from 'node:worker_threads'
import type { ReadAllOptions, StoredEvent, WorkerSource } from '@eskit/core'
import { expect, it } from 'vitest'
import type { EventStoreSuiteKit } from './kit.js'

// A worker thread as the collector's build workers run it: imports the source's module, calls its
// export with the options, and reads with the store it returns.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const run = async () => {
  const { source, reads } = workerData
  const loaded = await import(source.module)
  const store = await loaded[source.export](source.options)
  const results = []
  for (const options of reads) results.push(await store.readAll(options))
  const id = store.id
  await store.close()
  return { id, results }
}
run().then(
  (answer) => parentPort.postMessage({ ok: true, ...answer }),
  (error) => parentPort.postMessage({ ok: false, message: String(error && error.message), code: error && error.code }),
)`

interface Answer {
  ok: boolean
  id?: string
  results?: StoredEvent[][]
  message?: string
  code?: string
}

function readInWorker(source: WorkerSource, reads: readonly ReadAllOptions[]): Promise<Answer> {
  const worker = new Worker(WORKER, { eval: true, workerData: { source, reads } })
  return new Promise<Answer>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`the worker exited (${code}) without an answer`)))
  }).finally(() => worker.terminate())
}

/** The `workerSource` group of the event-store conformance suite. */
export function workerSourceTests(kit: EventStoreSuiteKit): void {
  const { open, ev } = kit
  it('a worker source opens, in a worker thread, a store of the same log that reads the same events', async () => {
    const events = await open()
    for (let i = 1; i <= 12; i++)
      await events.append(`s${i % 3}`, [ev(i % 4 === 0 ? 'Issued' : 'Scanned', i)])
    if (typeof events.workerSource !== 'function') return // optional: builds run on the main thread
    const source = events.workerSource()
    if (source === null) return // this log cannot be opened in a thread: the same
    expect(typeof source.module).toBe('string')
    expect(typeof source.export).toBe('string')
    // what a worker gets is a structured clone: nothing in the source may be lost to it
    expect(structuredClone(source)).toEqual(source)
    const reads: ReadAllOptions[] = [
      { after: 0, limit: 100 },
      { after: 5, limit: 3 },
      { after: 0, limit: 100, types: ['Issued'] },
      { after: 2, limit: 4, types: ['Issued', 'Scanned'] },
      { after: 12, limit: 10 },
    ]
    const answer = await readInWorker(source, reads)
    expect(answer).toMatchObject({ ok: true, id: events.id })
    const expected = []
    for (const options of reads) expected.push(await events.readAll(options))
    expect(answer.results).toEqual(expected)
    // and after the worker's store was closed, the log is still the store's
    expect(await events.head()).toBe(12)
  })
}

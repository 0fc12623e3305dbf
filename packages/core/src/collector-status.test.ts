import { eventually, recordingLogger } from '@eskit/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { appendMany, type Control, rowsProjection } from '../test/helpers.js'
import { createCollector } from './collector.js'
import type { Collector, ProjectionStatus } from './collector-types.js'
import type { MemoryConnection } from './memory-connection.js'
import { createMemoryEventStore } from './memory-event-store.js'
import { memoryStore } from './memory-store.js'
import type { ProjectionStore } from './projection-store.js'

const running: Collector[] = []
afterEach(async () => {
  for (const collector of running.splice(0)) await collector.stop().catch(() => undefined)
})

describe('status() after waitFor', () => {
  for (const [what, events, batchSize] of [
    ['the last batch is full (the head is a multiple of the batch size)', 20, 10],
    ['the last batch is partial', 25, 10],
    ['one batch holds the whole log', 7, 1000],
  ] as const) {
    it(`once waitFor(head) resolved on a first build, status says the rebuild is over: ${what}`, async () => {
      const log = createMemoryEventStore()
      const head = await appendMany(log, events)
      const collector = createCollector({
        events: log,
        store: memoryStore(),
        batchSize,
        logger: recordingLogger(),
      })
      running.push(collector)
      collector.add(rowsProjection('p'))
      await collector.start()
      await collector.waitFor(head)
      const [status] = collector.status()
      expect(status).toMatchObject({ name: 'p', position: head, lag: 0 })
      expect(['live', 'catching-up']).toContain(status?.state)
      expect(status?.rebuild).toBeUndefined()
    })
  }
})

describe('publishing failures', { timeout: 15_000 }, () => {
  it('every recorded failure is published at once, each attempt with its count', async () => {
    const inner = memoryStore()
    const published: ProjectionStatus[] = []
    const store: ProjectionStore<MemoryConnection> = {
      ...inner,
      open: (context) => inner.open(context),
      openSlot: (projection) => inner.openSlot(projection),
      reader: (name) => inner.reader(name),
      close: () => inner.close(),
      publishStatus: (status) => {
        if (status[0]) published.push(status[0])
      },
    }
    const events = createMemoryEventStore()
    await appendMany(events, 3)
    const control: Control = {
      applied: [],
      throwOn: () => new Error('bad event'),
    }
    const collector = createCollector({
      events,
      store,
      logger: recordingLogger(),
      // retries far quicker than the status is otherwise published (every 250 ms at most)
      retry: { initialDelayMs: 1, maxDelayMs: 1 },
    })
    running.push(collector)
    collector.add(rowsProjection('p', { control }))
    await collector.start()
    await eventually(() => (collector.status()[0]?.error?.attempts ?? 0) >= 5, {
      what: 'five attempts',
      timeoutMs: 10_000,
    })
    const attempts = published.flatMap((status) => (status.error ? [status.error.attempts] : []))
    expect(attempts.slice(0, 5)).toEqual([1, 2, 3, 4, 5])
  })
})

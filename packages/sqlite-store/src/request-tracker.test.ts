import { type Collector, createCollector, createMemoryEventStore, type EventStore } from '@eskit/core'
import { eventually } from '@eskit/test-kit'
import { describe, expect, it } from 'vitest'
import { defer, recordingLogger, rowsProjection, tempDir } from '../test/support.js'
import { type RequestResult, readRequestResult, requestRebuild } from './requests.js'
import { sqliteStore } from './sqlite-store.js'

const LOG = 'log-1'
const ENDED = new Set(['done', 'failed', 'rejected', 'closed'])

/** Polls until `check` holds (at most 10 s, within the tests' timeout); the test asserts on the data. */
async function until(check: () => boolean): Promise<void> {
  await eventually(check, { timeoutMs: 10_000 }).catch(() => {})
}

/** Waits until the request's result is final (or 10 s passed) and returns it. */
async function outcome(dir: string, id: string): Promise<RequestResult | null> {
  await until(() => ENDED.has(readRequestResult(dir, id)?.state ?? 'pending'))
  return readRequestResult(dir, id)
}

async function owner(
  dir: string,
  projection: Parameters<Collector['add']>[0],
  events: EventStore,
  retryDelayMs = 20,
): Promise<Collector> {
  const collector = createCollector({
    events,
    store: sqliteStore({ dir }),
    logger: recordingLogger(),
    batchSize: 10,
    pollIntervalMs: 10,
    retry: { initialDelayMs: retryDelayMs, maxDelayMs: 60_000 },
  })
  defer(() => collector.stop())
  collector.add(projection)
  await collector.start()
  return collector
}

async function logOf(count: number): Promise<EventStore> {
  const events = createMemoryEventStore({ id: LOG })
  for (let n = 1; n <= count; n++) await events.append('s-1', [{ type: 'Odd', data: { n } }])
  return events
}

describe('rebuild requests followed to their end', { timeout: 20_000 }, () => {
  it('a projection failing in its first build: the request ends failed with the error, not accepted forever', async () => {
    const dir = tempDir()
    const collector = await owner(
      dir,
      rowsProjection('a', '1', {
        apply: () => {
          throw new Error('bad event')
        },
      }),
      await logOf(30),
    )
    await until(() => (collector.status()[0]?.error?.attempts ?? 0) >= 2)
    expect(collector.status()[0]).toMatchObject({ state: 'failed', position: 0 })
    const id = requestRebuild(dir, 'a')
    expect(await outcome(dir, id)).toMatchObject({
      state: 'failed',
      message: expect.stringContaining('bad event'),
      position: 0,
    })
  })

  it('a projection whose setup throws: the request ends failed with the error', async () => {
    const dir = tempDir()
    const collector = await owner(
      dir,
      rowsProjection('a', '1', {
        setup: () => {
          throw new Error('cannot create the table')
        },
      }),
      await logOf(5),
    )
    await until(() => collector.status()[0]?.state === 'failed')
    const id = requestRebuild(dir, 'a')
    expect(await outcome(dir, id)).toMatchObject({
      state: 'failed',
      message: expect.stringContaining('cannot create the table'),
    })
  })

  it('a failed projection whose rebuild succeeds ends done, not failed by the error it had before', async () => {
    const dir = tempDir()
    let broken = true
    const collector = await owner(
      dir,
      rowsProjection('a', '1', {
        apply: () => {
          if (broken) throw new Error('bad event')
        },
      }),
      await logOf(30),
      60_000, // no retry of its own: only the request's rebuild tries again
    )
    await until(() => collector.status()[0]?.state === 'failed')
    broken = false
    const id = requestRebuild(dir, 'a')
    expect(await outcome(dir, id)).toMatchObject({ state: 'done', position: 30 })
    expect(collector.status()[0]).toMatchObject({ state: 'live', position: 30 })
  })

  it('a request taken while the first build runs ends done when that build completes', async () => {
    const dir = tempDir()
    let open = (): void => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const collector = await owner(dir, rowsProjection('a', '1', { apply: () => gate }), await logOf(30))
    await until(() => collector.status()[0]?.state === 'rebuilding')
    const id = requestRebuild(dir, 'a')
    await until(() => readRequestResult(dir, id)?.state === 'accepted')
    open()
    expect(await outcome(dir, id)).toMatchObject({ state: 'done', position: 30 })
    expect(collector.status()[0]).toMatchObject({ state: 'live', position: 30 })
  })

  it('a graceful stop of the owner during the rebuild ends the request closed, not failed', async () => {
    const dir = tempDir()
    let gate: Promise<void> | undefined
    let open = (): void => {}
    const collector = await owner(dir, rowsProjection('a', '1', { apply: () => gate }), await logOf(30))
    await collector.waitFor(30)
    gate = new Promise((resolve) => {
      open = resolve
    })
    const id = requestRebuild(dir, 'a')
    await until(() => readRequestResult(dir, id)?.state === 'accepted')
    await until(() => collector.status()[0]?.state === 'rebuilding')
    const stopped = collector.stop()
    open()
    await stopped
    expect(readRequestResult(dir, id)).toMatchObject({
      state: 'closed',
      message: expect.stringContaining('stopped before the rebuild completed'),
    })
  })
})

import { isEskitError, type RebuiltInfo } from '@eskit/core'
import { expect, it } from 'vitest'
import {
  appendSample,
  createProbe,
  eventually,
  expectedRows,
  gate,
  readEverything,
} from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `rebuild` group of the projection-store conformance suite. */
export function rebuildTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project } = kit
  it('under a collector, reads are answered from the old data during the rebuild and from the new after', async () => {
    const t = env()
    const memory = t.events()
    await appendSample(memory, 60)
    const events = gate(memory)
    const firstStore = await t.store()
    const first = t.collector({ events, store: firstStore }, [project('suite.bg', 'bg_rows')])
    await first.start()
    await first.waitFor(60)
    await first.stop()

    const store = await t.store()
    const second = t.collector({ events, store }, [project('suite.bg', 'bg_rows', { version: '2' })])
    const rebuilt: RebuiltInfo[] = []
    second.on('rebuilt', (info) => rebuilt.push(info))
    // hold the rebuild at its first read
    events.block((read) => read.after === 0)
    await second.start()
    const log = await readEverything(memory)
    expect(second.status()[0]).toMatchObject({ version: '2', state: 'rebuilding' })
    if (store.capabilities.buildBeside) {
      expect(await t.rows(store, 'suite.bg', 'bg_rows')).toEqual(expectedRows('1', log))
      expect(second.status()[0]?.position).toBe(60)
      // the live data is not advanced by the old code: a new event waits for the swap
      await appendSample(memory, 1, 61)
      const early = await second.waitFor(61, { timeoutMs: 30 }).catch((e) => e)
      expect(isEskitError(early, 'TIMEOUT')).toBe(true)
    } else {
      await appendSample(memory, 1, 61)
    }
    events.release()
    await second.waitFor(61)
    await eventually(() => rebuilt.length === 1, 'the rebuilt event')
    expect(rebuilt[0]).toMatchObject({
      name: 'suite.bg',
      version: '2',
      swapped: store.capabilities.buildBeside,
    })
    expect(await t.rows(store, 'suite.bg', 'bg_rows')).toEqual(
      expectedRows('2', await readEverything(memory)),
    )
  })

  it('rebuild(name) resolves once the new data is in place; a second call shares the promise', async () => {
    const t = env()
    const events = t.events()
    await appendSample(events, 40)
    const store = await t.store()
    const probe = createProbe()
    const collector = t.collector({ events, store }, [project('suite.again', 'again_rows', { probe })])
    await collector.start()
    await collector.waitFor(40)
    probe.applied.length = 0
    const rebuilt: RebuiltInfo[] = []
    collector.on('rebuilt', (info) => rebuilt.push(info))
    const one = collector.rebuild('suite.again')
    const two = collector.rebuild('suite.again')
    expect(two).toBe(one)
    await one
    expect(rebuilt).toEqual([expect.objectContaining({ name: 'suite.again', position: 40 })])
    expect(probe.applied).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(await t.rows(store, 'suite.again', 'again_rows')).toEqual(
      expectedRows('1', await readEverything(events)),
    )
    const missing = await collector.rebuild('suite.nope').catch((e) => e)
    expect(isEskitError(missing, 'NOT_FOUND')).toBe(true)
  })
}

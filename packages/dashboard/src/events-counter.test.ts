import type { ProjectionStatus } from '@eskit/core'
import { describe, expect, it } from 'vitest'
import { createEventsCounter } from './events-counter.js'
import { createRebuildHistogram } from './rebuild-histogram.js'
import { createThroughputHistory } from './throughput-history.js'

const status = (
  position: number,
  rebuild?: number,
  lastRebuild?: ProjectionStatus['lastRebuild'],
): ProjectionStatus => ({
  name: 'p',
  version: '1',
  state: rebuild === undefined ? 'live' : 'rebuilding',
  position,
  head: 1000,
  lag: 1000 - position,
  ...(rebuild === undefined
    ? {}
    : { rebuild: { position: rebuild, target: 1000, eventsPerSecond: 1, etaMs: 1 } }),
  ...(lastRebuild === undefined ? {} : { lastRebuild }),
})

describe('createEventsCounter', () => {
  it('counts from the first sample, and a rebuild beside from 0 while the live position stands', () => {
    const counter = createEventsCounter()
    counter.observe(status(500))
    expect(counter.total('p')).toBe(0)
    counter.observe(status(520))
    expect(counter.total('p')).toBe(20)
    counter.observe(status(520, 300)) // a rebuild began: 300 done beside
    counter.observe(status(530, 700)) // live went on too, but the unit that moves is the build
    expect(counter.total('p')).toBe(20 + 700)
    counter.observe(status(1000)) // swapped in at 1000
    expect(counter.total('p')).toBe(20 + 1000)
  })

  it('counts a whole rebuild no sample saw from the rebuilt event, and a seen one from where it was seen', () => {
    const counter = createEventsCounter()
    counter.observe(status(800))
    counter.rebuilt('p', 800)
    counter.observe(status(800))
    expect(counter.total('p')).toBe(800)
    counter.observe(status(800, 200))
    counter.rebuilt('p', 810)
    counter.observe(status(815))
    expect(counter.total('p')).toBe(800 + 810 + 5)
    expect(counter.total('other')).toBe(0)
  })
})

describe('createRebuildHistogram', () => {
  it('observes each rebuild once, in cumulative buckets', () => {
    const histogram = createRebuildHistogram()
    histogram.observe(status(1))
    histogram.observe(status(1, undefined, { at: '2026-01-01T00:00:00.000Z', durationMs: 700 }))
    histogram.observe(status(2, undefined, { at: '2026-01-01T00:00:00.000Z', durationMs: 700 }))
    histogram.observe(status(3, undefined, { at: '2026-01-01T00:01:00.000Z', durationMs: 20_000 }))
    const series = histogram.series().get('p')
    expect(series?.count).toBe(2)
    expect(series?.sumSeconds).toBeCloseTo(20.7)
    // bounds 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600
    expect(series?.buckets).toEqual([0, 0, 1, 1, 1, 2, 2, 2, 2])
  })
})

describe('createThroughputHistory', () => {
  it('keeps one rate per step over the window', () => {
    const history = createThroughputHistory({ stepMs: 1000, windowMs: 3000 })
    expect(history.record(0, new Map([['p', 0]]))).toBeNull()
    expect(history.record(500, new Map([['p', 100]]))).toBeNull()
    expect(history.record(1000, new Map([['p', 250]]))).toEqual({ t: 1000, rates: { p: 250 } })
    expect(history.record(3000, new Map([['p', 450]]))?.rates).toEqual({ p: 100 })
    expect(history.latest('p')).toBe(100)
    history.record(4000, new Map([['p', 450]]))
    history.record(5000, new Map([['p', 460]]))
    expect(history.points().map((point) => point.t)).toEqual([3000, 4000, 5000])
    expect(history.latest('q')).toBe(0)
  })
})

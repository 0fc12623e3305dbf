import { describe, expect, it } from 'vitest'
import { createRateMeter } from './rate-meter.js'

describe('createRateMeter', () => {
  it('measures positions per second over a moving window of 5 s', () => {
    let now = 0
    const meter = createRateMeter(() => now)
    meter.reset(0)
    expect(meter.perSecond()).toBe(0)
    now = 1000
    meter.add(500)
    expect(meter.perSecond()).toBe(500)
    // a slower stretch later: old samples leave the window
    for (let second = 2; second <= 12; second++) {
      now = second * 1000
      meter.add(500 + (second - 1) * 100)
    }
    expect(meter.perSecond()).toBe(100)
  })

  it('keeps one sample per 100 ms however often it is fed', () => {
    let now = 0
    const meter = createRateMeter(() => now)
    meter.reset(0)
    for (let i = 1; i <= 10_000; i++) {
      now = i
      meter.add(i * 10)
    }
    // 10 s at 10 positions per ms; the window covers the last ~5 s
    expect(meter.perSecond()).toBeCloseTo(10_000, -2)
  })

  it('is 0 when no time has passed', () => {
    const meter = createRateMeter(() => 7)
    meter.reset(0)
    meter.add(100)
    expect(meter.perSecond()).toBe(0)
  })
})

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

  it('is 0 when no time has passed', () => {
    const meter = createRateMeter(() => 7)
    meter.reset(0)
    meter.add(100)
    expect(meter.perSecond()).toBe(0)
  })
})

import { describe, expect, it } from 'vitest'
import { recordingStream } from '../test/recording-io.js'
import { createProgress, rateDetail } from './progress.js'

describe('createProgress', () => {
  it('draws a cli-progress bar on a terminal', () => {
    const stream = recordingStream(true)
    const progress = createProgress(stream, { label: 'rebuilding x', unit: 'events' })
    progress.update({ value: 250, total: 1000, detail: '500 events/s' })
    progress.update({ value: 1000, total: 1000, detail: 'swapped in' })
    progress.stop()
    expect(stream.text).toContain('rebuilding x [')
    expect(stream.text).toContain('█')
    expect(stream.text).toContain('1,000/1,000 events | swapped in')
    expect(stream.text).toContain('100%')
    // cursor hidden while drawing and shown again at the end
    expect(stream.text).toContain('\u001b[?25l')
    expect(stream.text).toContain('\u001b[?25h')
  })

  it('writes plain lines elsewhere: the first at once, then at most one per interval, and the last on stop', () => {
    const stream = recordingStream(false)
    const progress = createProgress(stream, { label: 'migrating', unit: 'rows', lineIntervalMs: 60_000 })
    progress.update({ value: 0, total: 400 })
    progress.update({ value: 100, total: 400 })
    progress.update({ value: 400, total: 400, detail: '3/3 projections' })
    progress.stop()
    progress.stop()
    expect(stream.text.split('\n').filter(Boolean)).toEqual([
      'migrating: 0/400 rows (0%)',
      'migrating: 400/400 rows (100%), 3/3 projections',
    ])
    expect(stream.text).not.toContain('\u001b')
  })

  it('draws nothing when nothing was reported', () => {
    const tty = recordingStream(true)
    createProgress(tty, { label: 'x', unit: 'rows' }).stop()
    const plain = recordingStream(false)
    createProgress(plain, { label: 'x', unit: 'rows' }).stop()
    expect(tty.text + plain.text).toBe('')
  })
})

describe('rateDetail', () => {
  it('shows the rate and the ETA when known', () => {
    expect(rateDetail(51_200, 3_000)).toBe('51,200 events/s, ETA 3.0s')
    expect(rateDetail(0, 0)).toBe('')
  })
})

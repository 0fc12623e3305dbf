import { describe, expect, it } from 'vitest'
import { colorEnabled, colorsFor } from './cli-io.js'

const tty = { isTTY: true, write: () => true }
const pipe = { isTTY: false, write: () => true }

describe('colour only on a terminal', () => {
  it('colours a terminal and not a pipe or file', () => {
    expect(colorEnabled(tty, {})).toBe(true)
    expect(colorEnabled(pipe, {})).toBe(false)
    expect(colorEnabled({ write: () => true }, {})).toBe(false)
  })

  it('respects NO_COLOR, TERM=dumb and FORCE_COLOR', () => {
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false)
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true)
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false)
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true)
    expect(colorEnabled(tty, { FORCE_COLOR: '0' })).toBe(false)
    expect(colorEnabled(tty, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false)
  })

  it('gives identity colour functions when colour is off', () => {
    expect(colorsFor(pipe, {}).red('x')).toBe('x')
    expect(colorsFor(tty, {}).red('x')).toBe('\u001b[31mx\u001b[39m')
  })
})

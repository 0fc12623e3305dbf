import pc from 'picocolors'
import { describe, expect, it } from 'vitest'
import { formatBytes, formatCount, formatDuration, formatTable, formatTimestamp } from './format.js'

describe('format', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(118_784)).toBe('116 KB')
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB')
  })

  it('formats counts with thousands separators', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567')
    expect(formatCount(12.6)).toBe('13')
  })

  it('formats durations from tenths of seconds to hours', () => {
    expect(formatDuration(800)).toBe('0.8s')
    expect(formatDuration(42_000)).toBe('42s')
    expect(formatDuration(65_000)).toBe('1m 5s')
    expect(formatDuration(3_725_000)).toBe('1h 2m')
    expect(formatDuration(Number.NaN)).toBe('?')
  })

  it('formats timestamps in UTC to the second', () => {
    expect(formatTimestamp('2026-11-24T07:12:03.456Z')).toBe('2026-11-24 07:12:03Z')
    expect(formatTimestamp(null)).toBe('-')
    expect(formatTimestamp('yesterday')).toBe('yesterday')
  })

  it('aligns table columns by their visible width, also when cells are coloured', () => {
    const colors = pc.createColors(true)
    const table = formatTable(
      ['NAME', 'STATE', 'LAG'],
      [
        ['a', colors.green('live'), '0'],
        ['longer.name', colors.red('failed'), '12'],
      ],
    )
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colour codes to compare layout
    const plain = table.replace(/\u001b\[[0-9;]*m/g, '')
    expect(plain.split('\n')).toEqual([
      'NAME         STATE   LAG',
      'a            live    0',
      'longer.name  failed  12',
    ])
    expect(table).toContain(colors.green('live'))
  })
})

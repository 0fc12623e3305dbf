import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  formatMarkdown,
  formatNumber,
  formatTable,
  machineInfo,
  type RunReport,
  updateDocTable,
} from './report.ts'
import { median, percentile, summarize } from './stats.ts'

describe('stats', () => {
  it('computes median, nearest-rank percentiles and min/max', () => {
    expect(median([5, 1, 3])).toBe(3)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    const samples = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(samples, 99)).toBe(99)
    expect(percentile(samples, 50)).toBe(50)
    expect(percentile([7], 99)).toBe(7)
    expect(summarize([3, 1, 2])).toEqual({ min: 1, median: 2, max: 3, samples: [3, 1, 2] })
  })
})

describe('report', () => {
  it('formats numbers with 3 significant digits and k/M', () => {
    expect(formatNumber(412_345)).toBe('412k')
    expect(formatNumber(1_234_567)).toBe('1.23M')
    expect(formatNumber(1.5)).toBe('1.50')
    expect(formatNumber(0.0456)).toBe('0.046')
    expect(formatNumber(undefined)).toBe('')
  })

  it('aligns the table and marks targets and skipped cases', () => {
    const rows = [
      {
        case: '1 rebuild',
        variant: 'raw',
        min: 480,
        median: 500,
        unit: 'ms',
        rate: 400_000,
        rateUnit: 'events/s',
      },
      {
        case: '1 rebuild',
        variant: 'eskit',
        median: 800,
        unit: 'ms',
        ratio: 0.625,
        ratioOf: 'raw',
        target: '≥ 0.5× raw',
        met: true,
      },
      { case: '7 peer', variant: 'Emmett', skipped: 'run with --peers' },
    ]
    const lines = formatTable(rows).split('\n')
    expect(lines[0]).toMatch(/^case\s+variant\s+min\s+median/)
    expect(lines[2]).toContain('400k events/s')
    expect(lines[3]).toContain('0.625× raw')
    expect(lines[3]).toContain('≥ 0.5× raw ok')
    expect(lines[4]).toContain('skipped: run with --peers')
    expect(formatMarkdown(rows).split('\n')).toHaveLength(5)
  })

  it('replaces only the marked table of the performance doc', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
    try {
      const file = path.join(dir, 'performance.md')
      fs.writeFileSync(
        file,
        '# Perf\nprose before\n<!-- bench:table:start -->\nold table\n<!-- bench:table:end -->\nprose after\n',
      )
      const report: RunReport = {
        mode: 'full',
        startedAt: '2026-11-24T08:50:00.000Z',
        durationMs: 200_000,
        machine: machineInfo(),
        workload: {},
        rows: [{ case: '1 rebuild', variant: 'raw', median: 500, unit: 'ms' }],
      }
      updateDocTable(file, report)
      const text = fs.readFileSync(file, 'utf8')
      expect(text).not.toContain('old table')
      expect(
        text.startsWith(
          '# Perf\nprose before\n<!-- bench:table:start -->\nfull run of 2026-11-24T08:50:00.000Z, 200 s.',
        ),
      ).toBe(true)
      expect(text).toContain('| 1 rebuild | raw |  | 500 ms |')
      expect(text.endsWith('<!-- bench:table:end -->\nprose after\n')).toBe(true)
      fs.writeFileSync(file, 'no markers')
      expect(() => updateDocTable(file, report)).toThrow(/no <!-- bench:table:start -->/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type BenchConfig, QUICK } from './config.ts'
import { runBench } from './run.ts'

/** Smaller still than `--quick`: every case and every correctness check, in seconds. */
const TINY: BenchConfig = {
  ...QUICK,
  events: 900,
  streams: 90,
  liveAppends: 30,
  memoryEvents: 1_500,
  singleAppends: 50,
  durableAppends: 20,
  durableBatchedAppends: 300,
  startupEvents: 900,
  batchedAppends: 300,
  peerEvents: 300,
  peerStreams: 30,
  scaling: [300, 600],
  pgAppends: 100,
  pgBatchedAppends: 500,
  pgLiveAppends: 20,
  yoyopassPasses: 250,
}

const benchRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

describe('bench quick mode', () => {
  it('runs every case on a tiny workload and every result passes its correctness check', async () => {
    const { report, failures } = await runBench({ config: TINY, benchRoot, peers: false })
    expect(failures.map((f) => `${f.case}: ${f.error.message}`)).toEqual([])
    // Only the peers are left out (they need --peers); every eskit case ran.
    expect(report.rows.filter((row) => row.skipped).map((row) => row.variant)).toEqual([
      'Emmett (emmett-sqlite)',
      'Emmett (emmett-postgresql)',
    ])
    const cases = new Set(report.rows.map((row) => row.case.split(' ')[0]))
    expect([...cases].sort((a, b) => Number(a) - Number(b))).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
      '11',
      '12',
    ])
    for (const row of report.rows.filter((r) => !r.skipped)) {
      expect(row.median, `${row.case} ${row.variant}`).toBeGreaterThanOrEqual(0)
      if (row.rate !== undefined) expect(row.rate, `${row.case} ${row.variant}`).toBeGreaterThan(0)
    }
    const raw = report.rows.find((row) => row.variant === 'raw better-sqlite3 (baseline)')
    expect(raw?.rate).toBeGreaterThan(0)
    const recommended = report.rows.find((row) =>
      row.variant.startsWith('sqliteStore + defineView, recommended'),
    )
    expect(recommended?.ratio).toBeGreaterThan(0)
    expect(recommended?.target).toBe('≥ 0.5× raw')
  }, 120_000)
})

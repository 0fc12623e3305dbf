import { rowsDigest, type ViewDigest } from './checksum.ts'
import type { BenchConfig } from './config.ts'
import type { LogCache } from './logs.ts'
import type { ResultRow } from './report.ts'
import { expectedView } from './workload.ts'

/** What every case gets: sizes, a temp dir, the shared logs, and where to put its rows. */
export interface BenchContext {
  config: BenchConfig
  /** The run's temporary directory (removed at the end). */
  tmp: string
  /** `apps/bench`: where `.peers/` and `results/` live. */
  benchRoot: string
  logs: LogCache
  /** `--peers`: install and run Emmett. */
  peers: boolean
  log(line: string): void
  add(row: ResultRow): void
  /** The digest every implementation must reach after the first `events` events. */
  expected(events: number, streams?: number): ViewDigest
  /** Figures later cases compare against (raw rebuild events/s of the reference workload). */
  baselines: {
    rawRebuildMedianMs?: number
    rawRebuildEventsPerSecond?: number
    /** The recommended style on sqliteStore: the rate a real rebuild runs at. */
    recommendedRebuildEventsPerSecond?: number
  }
}

/** Memoised expected digests: the in-memory model is the independent reference. */
export function expectedDigests(defaultStreams: number): (events: number, streams?: number) => ViewDigest {
  const memo = new Map<string, ViewDigest>()
  return (events, streams = defaultStreams) => {
    const key = `${events}/${streams}`
    let digest = memo.get(key)
    if (!digest) {
      digest = rowsDigest(expectedView(events, streams).values())
      memo.set(key, digest)
    }
    return digest
  }
}

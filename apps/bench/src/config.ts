import { REFERENCE_EVENTS, REFERENCE_STREAMS } from './workload.ts'

/** Sizes and repeats of one run. */
export interface BenchConfig {
  mode: 'quick' | 'full'
  /** The reference workload. */
  events: number
  streams: number
  /** Repeats of each timed case (min and median are reported). */
  repeats: number
  /** Repeats of the slow variants (naive async Kysely, per-event Kysely, the Emmett runs). */
  slowRepeats: number
  /** Case 1: interleaved rounds of raw and every variant. */
  rebuildRounds: number
  /** Case 2: builds of all ten; case 8: rebuilds per size. */
  allTenRepeats: number
  scalingRepeats: number
  /** Case 2: projections over the same log. */
  oneOfTen: number
  /**
   * Case 3: current projection files at start-up, the log they are built over, and how many
   * start-ups are timed. 60k events already touch all 20k passes: the files are as large as
   * at 200k, for a third of the set-up.
   */
  startupFiles: number
  startupEvents: number
  startupRepeats: number
  /** Case 4: single-event appends timed, with this many projections live. */
  liveAppends: number
  liveProjections: number
  /** Case 5: events rebuilt in the memory child. */
  memoryEvents: number
  /** Case 6: events appended one per append, and in appends of `appendBatch`. */
  singleAppends: number
  /** Appends with synchronous FULL (an fsync per append, so fewer): one-event, and batched. */
  durableAppends: number
  durableBatchedAppends: number
  batchedAppends: number
  appendBatch: number
  /** Case 7: the peer's workload (Emmett appends and rebuilds at about 1–5k events/s). */
  peerEvents: number
  peerStreams: number
  /** Case 8: log sizes. */
  scaling: number[]
  /** Case 12: passes yoyopass's seed issues (each with its scans: about 5 events a pass). */
  yoyopassPasses: number
  /** Case 9 (PostgreSQL): single-event appends per client count, 100-event appends, cross-process appends timed. */
  pgAppends: number
  pgBatchedAppends: number
  pgLiveAppends: number
}

/** Full mode: DESIGN.md's sizes, under 5 minutes on 2 cores. */
export const FULL: BenchConfig = {
  mode: 'full',
  events: REFERENCE_EVENTS,
  streams: REFERENCE_STREAMS,
  repeats: 3,
  slowRepeats: 1,
  rebuildRounds: 5,
  allTenRepeats: 2,
  scalingRepeats: 2,
  oneOfTen: 10,
  startupFiles: 20,
  startupEvents: 60_000,
  startupRepeats: 5,
  liveAppends: 10_000,
  liveProjections: 5,
  memoryEvents: 1_000_000,
  singleAppends: 5_000,
  durableAppends: 500,
  durableBatchedAppends: 20_000,
  batchedAppends: 100_000,
  appendBatch: 100,
  peerEvents: 10_000,
  peerStreams: 1_000,
  scaling: [100_000, 200_000, 400_000, 800_000],
  yoyopassPasses: 40_400,
  pgAppends: 4_000,
  pgBatchedAppends: 20_000,
  pgLiveAppends: 500,
}

/** Quick mode: every case and every correctness check on tiny sizes, for CI (figures mean little). */
export const QUICK: BenchConfig = {
  mode: 'quick',
  events: 3_000,
  streams: 300,
  repeats: 1,
  slowRepeats: 1,
  rebuildRounds: 1,
  allTenRepeats: 1,
  scalingRepeats: 1,
  oneOfTen: 10,
  startupFiles: 20,
  startupEvents: 3_000,
  startupRepeats: 1,
  liveAppends: 100,
  liveProjections: 5,
  memoryEvents: 6_000,
  singleAppends: 300,
  durableAppends: 100,
  durableBatchedAppends: 1_000,
  batchedAppends: 1_000,
  appendBatch: 100,
  peerEvents: 600,
  peerStreams: 60,
  scaling: [1_000, 2_000],
  yoyopassPasses: 600,
  pgAppends: 400,
  pgBatchedAppends: 2_000,
  pgLiveAppends: 50,
}

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Collector, createCollector, type EventStore, type Logger, type Projection } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import type BetterSqlite3 from 'better-sqlite3'
import { dumpsOf } from './build-dumps.ts'
import { type Generation, generationProjections } from './worker-projections.ts'

// Collectors of the worker crash scenario (the restart and the fresh builds it is compared with).

/** The batch size of every collector of the scenario, the killed child's included. */
export const BUILD_BATCH_SIZE = 100

type Db = BetterSqlite3.Database

/** A started collector on a per-file store in `dir` with these projections (a generation's or a list). */
export async function openCollector(
  events: EventStore,
  dir: string,
  generation: Generation | Projection<Db>[],
  buildWorkers: number,
  logger?: Logger,
): Promise<Collector> {
  const collector = createCollector({
    events,
    store: sqliteStore({ dir }),
    batchSize: BUILD_BATCH_SIZE,
    buildWorkers,
    ...(logger ? { logger } : {}),
  })
  const projections = typeof generation === 'string' ? generationProjections(generation) : generation
  for (const projection of projections) collector.add(projection)
  await collector.start()
  return collector
}

/** Waits until every projection serves its current version at `position` (its rebuild swapped in). */
export async function untilRebuilt(collector: Collector, position: number) {
  await collector.waitFor(position, { timeoutMs: 60_000 })
  const deadline = Date.now() + 60_000
  while (collector.status().some((s) => s.state !== 'live' || s.rebuild !== undefined)) {
    if (Date.now() > deadline) throw new Error(`rebuilds not done: ${JSON.stringify(collector.status())}`)
    await sleep(5)
  }
}

/** The log as it was at `position`: a fresh build over it stops there. */
export function logUpTo(events: EventStore, position: number): EventStore {
  return {
    id: events.id,
    append: () => Promise.reject(new Error('the log up to a position is read-only')),
    async readAll(options) {
      if (options.after >= position) return []
      return (await events.readAll(options)).filter((event) => event.position <= position)
    },
    async readStream(streamId) {
      return (await events.readStream(streamId)).filter((event) => event.position <= position)
    },
    head: async () => Math.min(position, await events.head()),
    onAppend: () => () => {},
    close: async () => {},
  }
}

/** Dumps of a single-threaded build from scratch over `events` up to `position`. */
export async function freshDumps(events: EventStore, projections: Projection<Db>[], position: number) {
  const dir = mkdtempSync(join(tmpdir(), 'eskit-fresh-'))
  try {
    const collector = await openCollector(events, dir, projections, 0)
    try {
      await collector.waitFor(position, { timeoutMs: 60_000 })
      return dumpsOf(collector, projections)
    } finally {
      await collector.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function sleep(ms: number) {
  return new Promise<void>((resolve) => setTimeout(resolve, ms))
}

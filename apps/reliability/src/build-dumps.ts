import { mkdirSync } from 'node:fs'
import { type Collector, createCollector, type EventStore, type Projection } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import { dumpProjection } from '@eskit/test-kit/dump-projection'
import type Database from 'better-sqlite3'

// The harnesses' references: a collector built from scratch, and the SHA-256 of each view.

type Db = Database.Database

/** SHA-256 of each projection's dump, read through the collector. */
export function dumpsOf(collector: Collector, projections: readonly Projection<Db>[]): Map<string, string> {
  return new Map(projections.map((p) => [p.name, dumpProjection(collector.reader<Db>(p.name)).sha256]))
}

/** Builds `projections` over `events` into `dir` up to `head` and returns their dumps. */
export async function buildAndDump(
  events: EventStore,
  dir: string,
  projections: Projection<Db>[],
  head: number,
  options: { buildWorkers?: number; timeoutMs: number },
): Promise<Map<string, string>> {
  mkdirSync(dir, { recursive: true })
  const collector = createCollector({
    events,
    store: sqliteStore({ dir }),
    ...(options.buildWorkers === undefined ? {} : { buildWorkers: options.buildWorkers }),
  })
  for (const projection of projections) collector.add(projection)
  await collector.start()
  try {
    await collector.waitFor(head, { timeoutMs: options.timeoutMs })
    return dumpsOf(collector, projections)
  } finally {
    await collector.stop()
  }
}

/** A pause of the harness between its own steps (never before an assertion). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

import { createCollector, type EventStore, type Projection, type ProjectionStore } from '@eskit/core'
import type Database from 'better-sqlite3'
import { dumpTables } from './shared-fixture.js'

type Db = Database.Database

/**
 * Appends the pass workload: `passes` PassIssued-style `Issued` events, then `scans` rounds of
 * `Scanned`, and one `Issued` event with no holder (a poison event for the holder projection).
 * Returns the head.
 */
export async function appendWorkload(
  events: EventStore,
  passes: number,
  scans: number,
  offset = 0,
): Promise<number> {
  let head = 0
  const issued = []
  for (let i = 0; i < passes; i++)
    issued.push({ stream: `pass-${offset + i}`, id: `p${offset + i}`, holder: `h${i % 9}` })
  for (const pass of issued) {
    head = (
      await events.append(pass.stream, [
        { type: 'Issued', data: { id: pass.id, holder: pass.holder, at: head } },
      ])
    ).position
  }
  for (let s = 0; s < scans; s++) {
    for (const pass of issued) {
      head = (await events.append(pass.stream, [{ type: 'Scanned', data: { id: pass.id, at: 1000 + s } }]))
        .position
    }
  }
  head = (
    await events.append(`poison-${offset}`, [
      { type: 'Issued', data: { id: `x${offset}`, holder: null, at: 0 } },
    ])
  ).position
  return head
}

/** Wraps an event store, recording the position of every event `readAll` hands out. */
export function spyOnReads(events: EventStore): { events: EventStore; reads: number[] } {
  const reads: number[] = []
  const spied: EventStore = {
    id: events.id,
    append: (streamId, batch, options) => events.append(streamId, batch, options),
    readStream: (streamId) => events.readStream(streamId),
    head: () => events.head(),
    onAppend: (listener) => events.onAppend(listener),
    close: () => events.close(),
    async readAll(options) {
      const batch = await events.readAll(options)
      reads.push(...batch.map((event) => event.position))
      return batch
    },
  }
  return { events: spied, reads }
}

/** Runs `projections` on `store` until `head`, and returns what each projection's tables hold. */
export async function runToHead(
  events: EventStore,
  store: ProjectionStore<Db>,
  projections: readonly Projection<Db>[],
  tables: Record<string, string[]>,
  head: number,
): Promise<{ results: Record<string, Record<string, unknown[]>>; parked: Record<string, unknown[]> }> {
  const collector = createCollector({ events, store, batchSize: 500, onError: 'skip' })
  for (const projection of projections) collector.add(projection)
  await collector.start()
  try {
    await collector.waitFor(head, { timeoutMs: 20_000 })
    const results: Record<string, Record<string, unknown[]>> = {}
    const parked: Record<string, unknown[]> = {}
    for (const projection of projections) {
      results[projection.name] = dumpTables(
        collector.reader<Db>(projection.name),
        tables[projection.name] ?? [],
      )
      parked[projection.name] = (await collector.parked(projection.name)).map(
        ({ position, streamId, type, error }) => ({
          position,
          streamId,
          type,
          error,
        }),
      )
    }
    return { results, parked }
  } finally {
    await collector.stop()
  }
}

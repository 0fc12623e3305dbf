import { setTimeout as delay } from 'node:timers/promises'
import { type Collector, createCollector, createMemoryEventStore, type Projection } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'

/** A pass view whose batches can be slowed down, so a rebuild lasts long enough to watch. */
export function passView(applyDelayMs = 0): Projection<Database.Database> {
  return {
    name: 'passes.pass_view',
    version: '1',
    eventTypes: ['PassIssued'],
    setup(db) {
      db.exec('create table if not exists passes (id text primary key)')
    },
    async apply(events, db) {
      if (applyDelayMs > 0) await delay(applyDelayMs)
      const insert = db.prepare('insert into passes (id) values (?)')
      for (const event of events) insert.run((event.data as { id: string }).id)
    },
  }
}

/** A collector on `sqliteStore({ dir })` in this process, caught up over `passes` events. */
export async function startInProcessOwner(
  dir: string,
  options: { passes: number; applyDelayMs?: number },
): Promise<Collector> {
  const events = createMemoryEventStore({ id: 'in-process-log' })
  for (let i = 1; i <= options.passes; i++) {
    await events.append(`pass-${i}`, [{ type: 'PassIssued', data: { id: `pass-${i}` } }])
  }
  const collector = createCollector({
    events,
    store: sqliteStore({ dir }),
    batchSize: 100,
    pollIntervalMs: 20,
  })
  collector.add(passView(options.applyDelayMs ?? 0))
  await collector.start()
  await collector.waitFor(options.passes, { timeoutMs: 30_000 })
  return collector
}

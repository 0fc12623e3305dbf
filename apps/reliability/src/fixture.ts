import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Collector, type CollectorConfig, createCollector, type Projection } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import { dumpProjection } from '@eskit/test-kit/dump-projection'
import type Database from 'better-sqlite3'
import BetterSqlite3 from 'better-sqlite3'
import { createRandom } from './random.ts'

/** A temporary data directory with an event log and a projections folder. */
export interface Workspace {
  dir: string
  projectionsDir: string
  eventsPath: string
  events: ReturnType<typeof openSqliteEventStore>
  /** Appends `count` deterministic events; returns the new head. */
  append(count: number, extra?: Record<string, unknown>): Promise<number>
  /** A collector on the per-file store over this workspace. */
  collector(projections: Projection<Database.Database>[], config?: Partial<CollectorConfig>): Collector
  /** Copies the event log (a "backup") to `path`. */
  backupLog(path: string): void
  close(): Promise<void>
}

export function createWorkspace(seed = 1): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'eskit-rel-'))
  const projectionsDir = join(dir, 'projections')
  mkdirSync(projectionsDir)
  const eventsPath = join(dir, 'events.db')
  const events = openSqliteEventStore({ path: eventsPath })
  const random = createRandom(seed)
  const types = ['Opened', 'Deposited', 'Withdrawn', 'Noted'] as const
  const collectors: Collector[] = []
  return {
    dir,
    projectionsDir,
    eventsPath,
    events,
    async append(count, extra = {}) {
      let head = await events.head()
      for (let i = 0; i < count; i++) {
        const type = types[random.int(0, types.length - 1)] ?? 'Noted'
        ;({ position: head } = await events.append(`account-${random.int(1, 20)}`, [
          { type, data: { amount: random.int(1, 100), ...extra } },
        ]))
      }
      return head
    },
    collector(projections, config = {}) {
      const collector = createCollector({
        events,
        store: sqliteStore({ dir: projectionsDir, ...(config.logger ? { logger: config.logger } : {}) }),
        retry: { initialDelayMs: 10, maxDelayMs: 50 },
        ...config,
      })
      for (const projection of projections) collector.add(projection)
      collectors.push(collector)
      return collector
    },
    backupLog(path) {
      // VACUUM INTO takes a consistent snapshot, WAL included, while the log stays open.
      const db = new BetterSqlite3(eventsPath)
      try {
        db.prepare('VACUUM INTO ?').run(path)
      } finally {
        db.close()
      }
    },
    async close() {
      for (const collector of collectors) await collector.stop().catch(() => {})
      await events.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Dump of a projection through the collector's reader. */
export function dumpOf(collector: Collector, name: string) {
  return dumpProjection(collector.reader<Database.Database>(name))
}

/** What a from-scratch rebuild of `projections` over the workspace's log contains. */
export async function freshDumps(ws: Workspace, projections: Projection<Database.Database>[]) {
  const dir = mkdtempSync(join(tmpdir(), 'eskit-fresh-'))
  const collector = createCollector({ events: ws.events, store: sqliteStore({ dir }) })
  for (const projection of projections) collector.add(projection)
  await collector.start()
  try {
    await collector.waitFor(await ws.events.head(), { timeoutMs: 30_000 })
    return new Map(projections.map((p) => [p.name, dumpOf(collector, p.name).sha256]))
  } finally {
    await collector.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

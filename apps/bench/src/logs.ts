import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EventStore } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import Database from 'better-sqlite3'
import { writeRawLog } from './raw.ts'
import { REFERENCE_STREAMS, workloadGroups } from './workload.ts'

/** Appends events `from`..`to` of the workload to an eskit event store, one append per group. */
export async function appendWorkload(
  events: EventStore,
  from: number,
  to: number,
  streams: number = REFERENCE_STREAMS,
): Promise<number> {
  let position = 0
  for (const group of workloadGroups(from, to, streams)) {
    position = (await events.append(group.streamId, group.events)).position
  }
  return position
}

/** Copies a closed SQLite file (and its WAL, should one be left) to a new path. */
export function copyDatabase(from: string, to: string): void {
  fs.copyFileSync(from, to)
  if (fs.existsSync(`${from}-wal`)) fs.copyFileSync(`${from}-wal`, `${to}-wal`)
}

/** Removes a SQLite file with its WAL and shared-memory files. */
export function removeDatabase(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(`${file}${suffix}`, { force: true })
}

/**
 * Event logs of the workload at several sizes, built once: a larger log is grown from a copy of
 * the largest smaller one (the workload is prefix-stable), so 100k → 1M costs 1M appends in all,
 * not the sum of the sizes. In a persistent cache directory the logs also outlive the run (see
 * {@link logCacheKey}); a log is visible there only once complete (built aside, then renamed).
 */
export interface LogCache {
  /** An eskit SQLite event store file holding the first `events` events. Treat it as read-only. */
  eskit(events: number, streams?: number): Promise<string>
  /** A raw log (plain `events` table) with the same events. */
  raw(events: number, streams?: number): string
  /** A writable copy of an eskit log, for cases that append to it. */
  eskitCopy(events: number, file: string, streams?: number): Promise<string>
  /** Any other cached file (a peer's log): built once by `build` into the path it is given. */
  other(name: string, build: (file: string) => Promise<void>): Promise<string>
}

/**
 * What a cached log depends on: the event store's built code and the workload generator. Logs
 * built by another version of either are not reused.
 */
export function logCacheKey(): string {
  const hash = createHash('sha256')
  hash.update(fs.readFileSync(fileURLToPath(import.meta.resolve('@eskit/sqlite-event-store'))))
  hash.update(fs.readFileSync(fileURLToPath(new URL('./workload.ts', import.meta.url))))
  hash.update(fs.readFileSync(fileURLToPath(new URL('./raw.ts', import.meta.url))))
  return hash.digest('hex').slice(0, 12)
}

/**
 * Creates a log cache in `dir`; logs already complete in it are reused.
 *
 * @example
 * ```ts
 * const logs = logCache(tmp)
 * const file = await logs.eskit(200_000)
 * ```
 */
export function logCache(dir: string, defaultStreams: number = REFERENCE_STREAMS): LogCache {
  fs.mkdirSync(dir, { recursive: true })
  const eskitFile = (events: number, streams: number) => path.join(dir, `eskit-${streams}-${events}.db`)
  const eskitSizes = (streams: number) =>
    fs
      .readdirSync(dir)
      .map((name) => new RegExp(`^eskit-${streams}-(\\d+)\\.db$`).exec(name)?.[1])
      .filter((size): size is string => size !== undefined)
      .map(Number)

  const cache: LogCache = {
    async eskit(events, streams = defaultStreams) {
      const file = eskitFile(events, streams)
      const sizes = eskitSizes(streams)
      if (sizes.includes(events)) return file
      const from = Math.max(0, ...sizes.filter((size) => size < events))
      const building = `${file}.building`
      removeDatabase(building)
      if (from > 0) copyDatabase(eskitFile(from, streams), building)
      // Set-up, not measured: the log is written through the public API on a connection with no
      // journal and no fsync (3× faster to build); the cases then open it by path as usual.
      const db = new Database(building)
      db.pragma('journal_mode = MEMORY')
      db.pragma('synchronous = OFF')
      const store = openSqliteEventStore({ database: db })
      try {
        await appendWorkload(store, from, events, streams)
      } finally {
        await store.close()
        db.close()
      }
      fs.renameSync(building, file)
      return file
    },
    raw(events, streams = defaultStreams) {
      const file = path.join(dir, `raw-${streams}-${events}.db`)
      if (!fs.existsSync(file)) {
        const building = `${file}.building`
        removeDatabase(building)
        writeRawLog(building, events, streams)
        fs.renameSync(building, file)
      }
      return file
    },
    async eskitCopy(events, file, streams = defaultStreams) {
      copyDatabase(await cache.eskit(events, streams), file)
      return file
    },
    async other(name, build) {
      const file = path.join(dir, name)
      if (!fs.existsSync(file)) {
        const building = `${file}.building`
        removeDatabase(building)
        await build(building)
        if (fs.existsSync(`${building}-wal`)) fs.renameSync(`${building}-wal`, `${file}-wal`)
        fs.renameSync(building, file)
      }
      return file
    },
  }
  return cache
}

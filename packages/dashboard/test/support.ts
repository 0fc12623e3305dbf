import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {
  type Collector,
  createCollector,
  type EventStore,
  type LogFields,
  type Logger,
  type Projection,
  type StoredEvent,
} from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import type Database from 'better-sqlite3'

const cleanups: Array<() => unknown> = []

/** Runs every registered cleanup, newest first (call from afterEach). */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
}

export function defer(cleanup: () => unknown): void {
  cleanups.push(cleanup)
}

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-dashboard-'))
  defer(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A logger that keeps every line, to assert on what was (and was not) logged. */
export interface RecordingLogger extends Logger {
  readonly lines: Array<{ level: string; message: string; fields?: LogFields }>
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = []
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push(fields === undefined ? { level, message } : { level, message, fields })
    }
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/**
 * A gate the test controls: open, apply runs freely; closed, each batch waits for a permit
 * (`allow(n)`), so a rebuild can be held and moved forward step by step.
 */
export interface Gate {
  close(): void
  allow(batches: number): void
  open(): void
  pass(): Promise<void>
}

export function createGate(): Gate {
  let closed = false
  let permits = 0
  const waiting: Array<() => void> = []
  const release = (): void => {
    while (waiting.length > 0 && (!closed || permits > 0)) {
      if (closed) permits -= 1
      waiting.shift()?.()
    }
  }
  return {
    close() {
      closed = true
    },
    allow(batches) {
      permits += batches
      release()
    },
    open() {
      closed = false
      release()
    },
    pass() {
      if (!closed) return Promise.resolve()
      if (permits > 0) {
        permits -= 1
        return Promise.resolve()
      }
      return new Promise((resolve) => waiting.push(resolve))
    },
  }
}

/** One row per event in `rows`; `gate` (if any) holds each batch. */
export function rowsProjection(
  name: string,
  options: { gate?: Gate; version?: string } = {},
): Projection<Database.Database> {
  return {
    name,
    version: options.version ?? '1',
    setup(db) {
      db.exec('create table rows (position integer primary key, type text not null)')
    },
    async apply(events, db) {
      await options.gate?.pass()
      const insert = db.prepare('insert into rows (position, type) values (?, ?)')
      for (const event of events) insert.run(event.position, event.type)
    },
  }
}

/** Throws `message` on events of type `Poison`: with onError 'skip' they are parked. */
export function poisonedProjection(name: string, message: string): Projection<Database.Database> {
  return {
    name,
    version: '1',
    setup(db) {
      db.exec('create table rows (position integer primary key)')
    },
    apply(events: readonly StoredEvent[], db) {
      for (const event of events) {
        if (event.type === 'Poison') throw new Error(message)
        db.prepare('insert into rows (position) values (?)').run(event.position)
      }
    },
  }
}

export interface App {
  dir: string
  events: EventStore
  collector: Collector
}

/** A real collector: a SQLite event log and one SQLite file per projection, in a temporary directory. */
export async function startApp(options: {
  projections: Projection<Database.Database>[]
  events?: number
  onError?: 'retry' | 'skip' | 'stop'
  batchSize?: number
  append?: (events: EventStore) => Promise<void>
}): Promise<App> {
  const root = tempDir()
  const dir = path.join(root, 'projections')
  const events = openSqliteEventStore({ path: path.join(root, 'events.db') })
  defer(() => events.close())
  await appendMany(events, options.events ?? 0)
  await options.append?.(events)
  const collector = createCollector({
    events,
    store: sqliteStore({ dir }),
    batchSize: options.batchSize ?? 100,
    onError: options.onError ?? 'retry',
    retry: { initialDelayMs: 20, maxDelayMs: 200 },
    pollIntervalMs: 50,
  })
  for (const projection of options.projections) collector.add(projection)
  await collector.start()
  defer(() => collector.stop())
  return { dir, events, collector }
}

export async function appendMany(events: EventStore, count: number): Promise<void> {
  for (let start = 0; start < count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      type: (start + i) % 3 === 0 ? 'PassIssued' : 'PassScanned',
      data: { n: start + i },
    }))
    await events.append(`stream-${start}`, batch)
  }
}

/** Polls `condition` until it holds (a condition, not a sleep before an assertion). */
export async function eventually<T>(
  condition: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await condition()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Serves a Node request listener on 127.0.0.1 on a free port. */
export async function listen(listener: http.RequestListener): Promise<string> {
  const server = http.createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** The file's identity and content version: changes when the file is rebuilt and swapped. */
export function fileStamp(file: string): string {
  const stat = fs.statSync(file)
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`
}

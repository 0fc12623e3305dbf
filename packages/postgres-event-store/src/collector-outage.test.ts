import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createCollector, type Projection, type StoredEvent } from '@eskit/core'
import { readStatusFile, sqliteStore } from '@eskit/sqlite-store'
import { createTestDatabase, type PostgresServer, startPostgres } from '@eskit/test-postgres'
import type Database from 'better-sqlite3'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openPostgresEventStore } from './open-postgres-event-store.js'
import { freshSchema, until } from './test-helpers.js'

// Behaviour 19 from the collector's side, on a server of this file's own (the test stops it).
let server: PostgresServer
let url: string
let dir: string
beforeAll(async () => {
  server = await startPostgres()
  url = (await createTestDatabase(server.url(), 'collector')).url
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-pg-collector-'))
})
afterAll(async () => {
  await server?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const positions: Projection<Database.Database> = {
  name: 'positions',
  version: '1',
  setup: (db) => {
    db.exec('CREATE TABLE IF NOT EXISTS seen (position INTEGER PRIMARY KEY, stream TEXT NOT NULL)')
  },
  apply: (events: readonly StoredEvent[], db) => {
    const insert = db.prepare('INSERT INTO seen (position, stream) VALUES (?, ?)')
    for (const event of events) insert.run(event.position, event.streamId)
  },
}

it('while the log is down the projection serves, status and the status file say since when and why; it resumes by itself, nothing lost or doubled', async () => {
  const schema = freshSchema()
  const events = await openPostgresEventStore({ connectionString: url, schema, timeoutMs: 1000 })
  const collector = createCollector({
    events,
    store: sqliteStore({ dir }),
    pollIntervalMs: 50,
    retry: { initialDelayMs: 20, maxDelayMs: 200 },
  })
  collector.add(positions as Projection)
  await collector.start()
  try {
    for (let i = 0; i < 5; i++) await events.append(`s${i}`, [{ type: 'T', data: { i } }])
    await collector.waitFor(5)
    const count = () =>
      (
        collector.reader<Database.Database>('positions').prepare('SELECT count(*) AS n FROM seen').get() as {
          n: number
        }
      ).n
    const before = Date.now()
    await server.stop()
    await until(
      () => collector.status()[0]?.logUnreachable !== undefined,
      10_000,
      'the log reported unreachable',
    )
    const status = collector.status()[0]
    expect(status?.logUnreachable?.code).toBe('UNAVAILABLE')
    expect(status?.logUnreachable?.since).toBeGreaterThanOrEqual(before)
    expect(status?.state).toBe('live')
    // the projection's file keeps serving reads
    expect(count()).toBe(5)
    // the owner publishes it for `eskit status`
    await until(
      () => readStatusFile(dir)?.projections[0]?.logUnreachable !== undefined,
      5000,
      'the status file',
    )
    expect(readStatusFile(dir)?.projections[0]?.logUnreachable?.code).toBe('UNAVAILABLE')

    await server.start()
    let appended: { position: number } | undefined
    await until(
      async () => {
        appended = await events.append('after', [{ type: 'T', data: {} }]).catch(() => undefined)
        return appended !== undefined
      },
      10_000,
      'an append after the restart',
    )
    await collector.waitFor(appended?.position ?? 6, { timeoutMs: 10_000 })
    await until(() => collector.status()[0]?.logUnreachable === undefined, 5000, 'the status to clear')
    const seen = collector
      .reader<Database.Database>('positions')
      .prepare('SELECT position FROM seen ORDER BY position')
      .all()
      .map((row) => (row as { position: number }).position)
    expect(seen).toEqual(Array.from({ length: appended?.position ?? 0 }, (_, i) => i + 1))
  } finally {
    await collector.stop()
    await events.close()
  }
})

import fs from 'node:fs'
import path from 'node:path'
import { createCollector, createMemoryEventStore, type EventStore } from '@eskit/core'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { defer, recordingLogger, rowsOf, rowsProjection, tempDir } from '../test/support.js'
import { readProjectionFile } from './inspect.js'
import { directoryLayout } from './layout.js'
import { sqliteStore } from './sqlite-store.js'

async function logOf(id: string, count: number): Promise<EventStore> {
  const events = createMemoryEventStore({ id })
  for (let n = 1; n <= count; n++) await events.append('s-1', [{ type: 'Odd', data: { n } }])
  return events
}

async function run(dir: string, events: EventStore, logger = recordingLogger()): Promise<void> {
  const collector = createCollector({ events, store: sqliteStore({ dir }), logger })
  defer(() => collector.stop())
  collector.add(rowsProjection('a')).add(rowsProjection('b'))
  await collector.start()
  await collector.waitFor(await events.head())
  await collector.stop()
}

describe('projection files built from another event log', () => {
  it('are moved to quarantine, recoverable, and rebuilt from this log; nothing is emptied in place', async () => {
    const dir = tempDir()
    await run(dir, await logOf('log-a', 5))
    const before = fs.readFileSync(path.join(dir, 'a.db'))

    // the application pointed at another log (a new, empty one after the first was lost)
    const logger = recordingLogger()
    await run(dir, await logOf('log-b', 2), logger)

    const quarantine = directoryLayout(dir).quarantine
    const moved = fs
      .readdirSync(quarantine)
      .filter((file) => file.endsWith('.db'))
      .sort()
    expect(moved).toEqual([expect.stringMatching(/^a\..+\.db$/), expect.stringMatching(/^b\..+\.db$/)])
    const kept = path.join(quarantine, moved[0] as string)
    expect(fs.readFileSync(kept).equals(before)).toBe(true)
    expect(readProjectionFile(path.join(dir, 'a.db'))).toMatchObject({ logId: 'log-b', position: 2 })
    const old = new Database(kept, { readonly: true })
    defer(() => {
      old.close()
    })
    expect(rowsOf(old).map((row) => row.position)).toEqual([1, 2, 3, 4, 5])
    expect(
      logger.lines.filter((line) => line.message === 'projection file moved aside and will be rebuilt'),
    ).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({
          name: 'a',
          reason: expect.stringContaining('another event log (id log-a'),
        }),
      }),
      expect.objectContaining({ fields: expect.objectContaining({ name: 'b' }) }),
    ])
  })
})

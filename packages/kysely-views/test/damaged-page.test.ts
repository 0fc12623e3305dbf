import fs from 'node:fs'
import path from 'node:path'
import {
  type Collector,
  createCollector,
  createMemoryEventStore,
  type Logger,
  type RebuiltInfo,
} from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import { directoryLayout } from '@eskit/sqlite-store/files'
import { damageLeafPage, eventually, recordingLogger } from '@eskit/test-kit'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createReader } from '../src/index.js'
import { statementPassView, tempDir } from './fixtures.js'

const view = statementPassView('passes.view')
const running: Collector[] = []
let cleanup = (): void => {}
afterEach(async () => {
  for (const collector of running.splice(0)) await collector.stop()
  cleanup()
})

describe('a damaged page in a projection file (sqliteStore, default integrity check)', {
  timeout: 20_000,
}, () => {
  it('a read that hits it moves the file aside and rebuilds it; reads and the writer then work on a sound file', async () => {
    const made = tempDir()
    cleanup = made.cleanup
    const dir = path.join(made.dir, 'projections')
    const events = createMemoryEventStore({ id: 'log-1' })
    const holder = (n: number) => `holder-${n}-${'x'.repeat(300)}`
    for (let n = 1; n <= 600; n++) {
      await events.append(`pass-${n}`, [{ type: 'PassIssued', data: { passId: `p${n}`, holder: holder(n) } }])
    }
    const start = async (logger: Logger): Promise<Collector> => {
      const collector = createCollector({ events, store: sqliteStore({ dir }), logger })
      running.push(collector)
      collector.add(view)
      await collector.start()
      return collector
    }
    const first = await start(recordingLogger())
    await first.waitFor(600)
    await first.stop()
    running.splice(0)
    const file = path.join(dir, `${view.name}.db`)
    damageLeafPage(file, 'passes')

    const logger = recordingLogger()
    const collector = await start(logger)
    const rebuilt: RebuiltInfo[] = []
    collector.on('rebuilt', (info) => rebuilt.push(info))
    const reader = createReader(collector, view)
    const read = () => reader.selectFrom('passes').select(['id', 'holder']).orderBy('id').execute()
    // the metadata is sound, so the file opens and serves until a read meets the damage
    await expect(read()).rejects.toMatchObject({ code: 'CORRUPT' })

    await eventually(() => rebuilt.length > 0, { what: 'the rebuild after the damage', timeoutMs: 10_000 })
    expect(rebuilt).toEqual([expect.objectContaining({ name: view.name, swapped: false, position: 600 })])
    const quarantined = fs.readdirSync(directoryLayout(dir).quarantine).filter((f) => f.endsWith('.db'))
    expect(quarantined).toEqual([expect.stringMatching(/^passes\.view\..+\.db$/)])
    expect(
      logger.lines.filter((line) => line.message === 'projection file moved aside and will be rebuilt'),
    ).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ reason: expect.stringMatching(/integrity check failed/) }),
      }),
    ])
    const rows = await read()
    expect(rows).toHaveLength(600)
    expect(rows.find((row) => row.id === 'p300')?.holder).toBe(holder(300))
    expect(collector.status()[0]).toMatchObject({ state: 'live', position: 600 })

    // the writer is on the new file too
    await events.append('pass-601', [{ type: 'PassIssued', data: { passId: 'p601', holder: 'late' } }])
    await collector.waitFor(601)
    expect(await read()).toHaveLength(601)
  })

  it('a batch that hits it (the writer) moves the file aside and rebuilds it too', async () => {
    const made = tempDir()
    cleanup = made.cleanup
    const dir = path.join(made.dir, 'projections')
    const events = createMemoryEventStore({ id: 'log-1' })
    const holder = (n: number) => `holder-${n}-${'x'.repeat(300)}`
    for (let n = 1; n <= 600; n++) {
      await events.append(`pass-${n}`, [{ type: 'PassIssued', data: { passId: `p${n}`, holder: holder(n) } }])
    }
    const start = async (): Promise<Collector> => {
      const collector = createCollector({
        events,
        store: sqliteStore({ dir }),
        logger: recordingLogger(),
        retry: { initialDelayMs: 10, maxDelayMs: 50 },
      })
      running.push(collector)
      collector.add(view)
      await collector.start()
      return collector
    }
    const first = await start()
    await first.waitFor(600)
    await first.stop()
    running.splice(0)
    const file = path.join(dir, `${view.name}.db`)
    damageLeafPage(file, 'passes')
    // a pass whose row is on the damaged page: scanning it makes the writer read that page
    const probe = new Database(file, { readonly: true })
    const lookup = probe.prepare('select holder from passes where id = ?')
    let victim = 0
    for (let n = 1; n <= 600 && victim === 0; n++) {
      try {
        lookup.get(`p${n}`)
      } catch {
        victim = n
      }
    }
    probe.close()
    expect(victim).toBeGreaterThan(0)

    const collector = await start()
    const rebuilt: RebuiltInfo[] = []
    collector.on('rebuilt', (info) => rebuilt.push(info))
    const { position } = await events.append(`pass-${victim}`, [
      { type: 'PassScanned', data: { passId: `p${victim}`, at: 'gate-1' } },
    ])
    await collector.waitFor(position, { timeoutMs: 10_000 })
    expect(rebuilt).toEqual([expect.objectContaining({ name: view.name, swapped: false, position: 601 })])
    expect(fs.readdirSync(directoryLayout(dir).quarantine).filter((f) => f.endsWith('.db'))).toHaveLength(1)
    const row = await createReader(collector, view)
      .selectFrom('passes')
      .selectAll()
      .where('id', '=', `p${victim}`)
      .executeTakeFirst()
    expect(row).toEqual({ id: `p${victim}`, holder: holder(victim), scans: 1, last_at: 'gate-1' })
  })
})

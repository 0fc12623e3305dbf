import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { afterEach, describe, expect, it } from 'vitest'
import { logCache } from './logs.ts'
import { workloadEvent } from './workload.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

describe('logCache', () => {
  it('grows a larger log from a smaller one, event for event the workload, and reuses complete logs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
    dirs.push(dir)
    const logs = logCache(dir, 40)
    const small = await logs.eskit(301)
    const large = await logs.eskit(700)
    expect(fs.readdirSync(dir).sort()).toEqual(['eskit-40-301.db', 'eskit-40-700.db'])

    const store = openSqliteEventStore({ path: large })
    try {
      expect(await store.head()).toBe(700)
      const events = await store.readAll({ after: 0, limit: 1000 })
      expect(events.map((e) => ({ streamId: e.streamId, event: { type: e.type, data: e.data } }))).toEqual(
        Array.from({ length: 700 }, (_, i) => workloadEvent(i, 40)),
      )
      // Stream versions continue across the cut at 301 (mid-group): the growth appended, not restarted.
      expect(events.filter((e) => e.streamId === 'pass-p20').map((e) => e.streamVersion)).toEqual(
        Array.from({ length: events.filter((e) => e.streamId === 'pass-p20').length }, (_, i) => i + 1),
      )
    } finally {
      await store.close()
    }

    // A second cache over the same folder finds both logs complete and builds nothing.
    const mtime = fs.statSync(small).mtimeMs
    const again = logCache(dir, 40)
    expect(await again.eskit(301)).toBe(small)
    expect(fs.statSync(small).mtimeMs).toBe(mtime)
    // A build that never finished (left as .building) is not taken for a log.
    fs.writeFileSync(path.join(dir, 'eskit-40-900.db.building'), 'half')
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.db'))).toHaveLength(2)
  })
})

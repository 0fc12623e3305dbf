import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { rowsDigest, viewDigest } from './checksum.ts'
import { rawRebuild, writeRawLog } from './raw.ts'
import { expectedView, workloadEvent, workloadGroups } from './workload.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
  dirs.push(dir)
  return dir
}

describe('workload', () => {
  it('has every third event PassIssued, the rest PassScanned, over the given streams', () => {
    const events = Array.from({ length: 3000 }, (_, i) => workloadEvent(i, 100))
    expect(events.filter((e) => e.event.type === 'PassIssued')).toHaveLength(1000)
    expect(new Set(events.map((e) => e.streamId)).size).toBe(100)
    expect(events[0]).toEqual({
      streamId: 'pass-p0',
      event: { type: 'PassIssued', data: { passId: 'p0', holder: 'holder-0' } },
    })
    expect(events[4]?.event).toEqual({
      type: 'PassScanned',
      data: { passId: 'p1', gate: 'gate-4', at: 1_767_225_604_000 },
    })
  })

  it('groups appends by stream, each group opened by its PassIssued', () => {
    const groups = [...workloadGroups(0, 10, 2)]
    expect(groups.map((g) => [g.streamId, g.events.map((e) => e.type[4])])).toEqual([
      ['pass-p0', ['I', 'S', 'S']],
      ['pass-p1', ['I', 'S', 'S']],
      ['pass-p0', ['I', 'S', 'S']],
      ['pass-p1', ['I']],
    ])
    // A group cut by `from` starts mid-group: still one stream.
    expect([...workloadGroups(4, 6, 2)]).toEqual([
      { streamId: 'pass-p1', events: [workloadEvent(4, 2).event, workloadEvent(5, 2).event] },
    ])
  })

  it('models re-issues (holder changes, scans kept) and scans (count and last time)', () => {
    const model = expectedView(9, 2)
    expect([...model.values()]).toEqual([
      { id: 'p0', holder: 'holder-2', scans: 4, last_at: 1_767_225_600_000 + 8 * 1000 },
      { id: 'p1', holder: 'holder-1', scans: 2, last_at: 1_767_225_600_000 + 5 * 1000 },
    ])
  })

  it('the raw baseline rebuilds exactly the modelled view, and the digest sees a changed row', () => {
    const dir = tempDir()
    const log = path.join(dir, 'log.db')
    writeRawLog(log, 1500, 50)
    writeRawLog(log, 3000, 50) // grows the same log
    const viewFile = path.join(dir, 'view.db')
    rawRebuild(log, viewFile, 250)
    const db = new Database(viewFile)
    try {
      const expected = rowsDigest(expectedView(3000, 50).values())
      expect(expected.rows).toBe(50)
      expect(viewDigest(db)).toEqual(expected)
      expect((db.prepare('select position from checkpoint').get() as { position: number }).position).toBe(
        3000,
      )
      db.prepare("update passes set scans = scans + 1 where id = 'p7'").run()
      expect(viewDigest(db).checksum).not.toBe(expected.checksum)
    } finally {
      db.close()
    }
  })
})

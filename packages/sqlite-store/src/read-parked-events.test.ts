import fs from 'node:fs'
import path from 'node:path'
import { isEskitError } from '@eskit/core'
import { describe, expect, it } from 'vitest'
import { defer, recordingLogger, rowsProjection, storedEvents, tempDir } from '../test/support.js'
import { readParkedEvents } from './read-parked-events.js'
import { sqliteStore } from './sqlite-store.js'

function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const stat = fs.statSync(path.join(dir, entry))
    if (stat.isFile()) out[entry] = `${stat.size}:${stat.mtimeMs}`
  }
  return out
}

describe('readParkedEvents', () => {
  it("reads a live file's parked events, event included, while its owner keeps it open, and changes no file", async () => {
    const dir = tempDir()
    const store = sqliteStore({ dir })
    defer(() => store.close())
    await store.open({ logId: 'log-1', logger: recordingLogger() })
    const slot = await store.openSlot(rowsProjection('passes'))
    await slot.initialize({ version: '1', logId: 'log-1' })
    const [event] = storedEvents(1)
    if (!event) throw new Error('no event')
    const parked = {
      position: 1,
      streamId: event.streamId,
      type: event.type,
      error: '<script>alert(1)</script>',
      attempts: 3,
      parkedAt: '2026-01-01T00:00:00.000Z',
      event,
    }
    await slot.commit({ from: 0, to: 1, events: [], parked: [parked] })
    const before = filesOf(dir)
    const read = readParkedEvents(path.join(dir, 'passes.db'))
    expect(read).toEqual([{ ...parked, event: { ...event, recordedAt: event.recordedAt } }])
    expect(read[0]?.event.recordedAt).toBeInstanceOf(Date)
    expect(filesOf(dir)).toEqual(before)
  })

  it('answers NOT_FOUND for a missing file and CORRUPT for a file that is not SQLite', () => {
    const dir = tempDir()
    const codeOf = (file: string): string => {
      try {
        readParkedEvents(file)
        return 'returned'
      } catch (error) {
        return isEskitError(error) ? error.code : String(error)
      }
    }
    expect(codeOf(path.join(dir, 'missing.db'))).toBe('NOT_FOUND')
    fs.writeFileSync(path.join(dir, 'junk.db'), 'not a database at all, just some text bytes here')
    expect(codeOf(path.join(dir, 'junk.db'))).toBe('CORRUPT')
  })
})

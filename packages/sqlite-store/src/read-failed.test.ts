import { EskitError } from '@eskit/core'
import { describe, expect, it } from 'vitest'
import { defer, recordingLogger, rowsProjection, storedEvents, tempDir } from '../test/support.js'
import { sqliteStore } from './sqlite-store.js'

describe('sqliteStore.readFailed', () => {
  it('corruption seen by a reader makes the live slot report lost; other errors change nothing', async () => {
    const dir = tempDir()
    const store = sqliteStore({ dir })
    defer(() => store.close())
    const logger = recordingLogger()
    await store.open({ logId: 'log-1', logger })
    const slot = await store.openSlot(rowsProjection('a'))
    await slot.initialize({ version: '1', logId: 'log-1' })
    await slot.commit({ from: 0, to: 2, events: storedEvents(2) })

    store.readFailed?.('a', new EskitError('INVALID_QUERY', 'no such table: nope'))
    store.readFailed?.('a', new EskitError('BUSY', 'database is locked'))
    store.readFailed?.('unknown', new EskitError('CORRUPT', 'database disk image is malformed'))
    expect(slot.check?.()).toBe('ok')
    const warnings = () => logger.lines.filter((line) => line.level !== 'debug')
    expect(warnings()).toEqual([])

    store.readFailed?.(
      'a',
      Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }),
    )
    expect(slot.check?.()).toBe('lost')
    expect(warnings()).toEqual([
      expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ name: 'a' }) }),
    ])
    // the file was sound after all: reopening quick-checks it and keeps its data
    const reopened = await store.openSlot(rowsProjection('a'))
    expect(await reopened.state()).toMatchObject({ position: 2 })
  })
})

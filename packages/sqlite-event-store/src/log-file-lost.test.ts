import fs from 'node:fs'
import path from 'node:path'
import { type EventStore, isEskitError } from '@eskit/core'
import { afterEach, describe, expect, it } from 'vitest'
import { recordingLogger, rejection, useTempDirs } from '../test/helpers.js'
import { openSqliteEventStore } from './open-sqlite-event-store.js'

const tempDir = useTempDirs()
const opened: EventStore[] = []
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close()
})

function open(file: string, logger = recordingLogger()): EventStore {
  const store = openSqliteEventStore({ path: file, logger })
  opened.push(store)
  return store
}

const issue = (n: number) => [{ type: 'PassIssued', data: { n } }]

describe('the log file deleted or replaced under an open store', () => {
  it('deleted: appends are refused with LOG_LOST, never acknowledged; listeners hear nothing', async () => {
    const file = path.join(tempDir(), 'events.db')
    const logger = recordingLogger()
    const store = open(file, logger)
    await store.append('pass-1', issue(1))
    const heard: number[] = []
    store.onAppend((head) => heard.push(head))
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true })

    const refused = await rejection(store.append('pass-2', issue(2)))
    expect(isEskitError(refused, 'LOG_LOST')).toBe(true)
    expect(refused.message).toContain(file)
    // the next append is refused too, also once a new file appears at the path
    open(file)
    expect(isEskitError(await rejection(store.append('pass-3', issue(3))), 'LOG_LOST')).toBe(true)
    expect(heard).toEqual([])
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([
      expect.objectContaining({ fields: { path: file } }),
    ])
  })

  it('replaced by another log: appends are refused and the file now at the path is left as it was', async () => {
    const root = tempDir()
    const file = path.join(root, 'events.db')
    const other = path.join(root, 'restored.db')
    const restored = openSqliteEventStore({ path: other })
    for (let n = 1; n <= 3; n++) await restored.append(`r-${n}`, issue(n))
    const restoredId = restored.id
    await restored.close()

    const store = open(file)
    await store.append('pass-1', issue(1))
    const bytes = fs.readFileSync(other)
    fs.renameSync(other, file)
    expect(isEskitError(await rejection(store.append('pass-2', issue(2))), 'LOG_LOST')).toBe(true)
    expect(fs.readFileSync(file).equals(bytes)).toBe(true)
    expect(restoredId).not.toBe(store.id)
  })

  it('reads go on from the file that was opened', async () => {
    const file = path.join(tempDir(), 'events.db')
    const store = open(file)
    await store.append('pass-1', issue(1))
    fs.rmSync(file)
    expect(await store.head()).toBe(1)
    expect((await store.readAll({ after: 0, limit: 10 })).map((event) => event.position)).toEqual([1])
  })
})

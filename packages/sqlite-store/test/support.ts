import type { Projection, StoredEvent } from '@eskit/core'
import { tempDir as makeTempDir } from '@eskit/test-kit'
import type Database from 'better-sqlite3'
import { afterEach } from 'vitest'

const cleanups: Array<() => void | Promise<void>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Runs `cleanup` after the current test. */
export function defer(cleanup: () => void | Promise<void>): void {
  cleanups.push(cleanup)
}

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const { dir, cleanup } = makeTempDir()
  defer(cleanup)
  return dir
}

export { type LogLine, recordingLogger } from '@eskit/test-kit'

/** `count` stored events at positions 1..count (or from `from + 1`). */
export function storedEvents(count: number, from = 0): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const position = from + i + 1
    return {
      position,
      streamId: `s-${position % 3}`,
      streamVersion: Math.floor(position / 3) + 1,
      type: position % 2 === 0 ? 'Even' : 'Odd',
      data: { n: position },
      recordedAt: new Date(1_700_000_000_000 + position),
    }
  })
}

/** A projection writing one row per event into `rows`, tagged with its version. */
export function rowsProjection(
  name: string,
  version = '1',
  hooks: {
    apply?: (events: readonly StoredEvent[], db: Database.Database) => void | Promise<void>
    setup?: (db: Database.Database) => void | Promise<void>
  } = {},
): Projection<Database.Database> {
  return {
    name,
    version,
    setup(db) {
      db.exec('create table rows (position integer primary key, type text not null, value text not null)')
      return hooks.setup?.(db)
    },
    apply(events, db) {
      const insert = db.prepare('insert into rows (position, type, value) values (?, ?, ?)')
      for (const event of events)
        insert.run(event.position, event.type, `${version}:${JSON.stringify(event.data)}`)
      return hooks.apply?.(events, db)
    },
  }
}

/** The rows of `rows` through a connection, by position. */
export function rowsOf(db: Database.Database): Array<{ position: number; type: string; value: string }> {
  return db.prepare('select position, type, value from rows order by position').all() as Array<{
    position: number
    type: string
    value: string
  }>
}

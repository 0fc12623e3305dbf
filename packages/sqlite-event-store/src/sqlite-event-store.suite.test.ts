import path from 'node:path'
import type { EventStore } from '@eskit/core'
import { runEventStoreSuite } from '@eskit/store-test-suite'
import Database from 'better-sqlite3'
import { openSqliteEventStore } from './open-sqlite-event-store.js'

runEventStoreSuite({
  name: 'sqlite event store ({ path })',
  create: (location) => openSqliteEventStore({ path: path.join(location, 'events.db') }),
})

runEventStoreSuite({
  name: 'sqlite event store ({ database }, synchronous=NORMAL connection)',
  create: (location): EventStore => {
    const database = new Database(path.join(location, 'events.db'))
    database.pragma('journal_mode = WAL')
    database.pragma('synchronous = NORMAL')
    const store = openSqliteEventStore({ database })
    // The store leaves the application's database open; the suite's close stands for the app's.
    return {
      ...store,
      id: store.id,
      close: async () => {
        await store.close()
        database.close()
      },
    }
  },
})

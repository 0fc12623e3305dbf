import path from 'node:path'
import { runProjectionStoreSuite, sqliteFixture } from '@eskit/store-test-suite'
import Database from 'better-sqlite3'
import { sharedStore } from './shared-store.js'

const file = (location: string): string => path.join(location, 'shared.db')

runProjectionStoreSuite({
  name: 'sharedStore',
  createStore: (location) => sharedStore({ path: file(location) }),
  fixture: sqliteFixture,
  skip: {
    buildBeside:
      'no build beside the live data: every version of a projection would need the same table names in the one ' +
      'shared database, so a rebuild drops and refills the tables in place (capabilities.buildBeside is false)',
    externalRequests:
      'no request channel from outside the process (capabilities.externalRequests is false): `eskit rebuild` ' +
      'works on per-file directories; in shared mode call collector.rebuild(name)',
  },
  // The shared-mode counterpart of deleting a projection file: its tables are dropped by another
  // connection while the store runs.
  loseData(location, name) {
    const db = new Database(file(location))
    try {
      const tables = db
        .prepare(`SELECT name FROM _eskit_tables WHERE projection = ? AND type = 'table'`)
        .pluck()
        .all(name) as string[]
      for (const table of tables) db.exec(`DROP TABLE IF EXISTS "${table.replaceAll('"', '""')}"`)
    } finally {
      db.close()
    }
  },
})

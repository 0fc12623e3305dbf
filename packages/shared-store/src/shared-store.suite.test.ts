import path from 'node:path'
import { runProjectionStoreSuite, sqliteFixture } from '@eskit/store-test-suite'
import { sharedStore } from './shared-store.js'

runProjectionStoreSuite({
  name: 'sharedStore',
  createStore: (location) => sharedStore({ path: path.join(location, 'shared.db') }),
  fixture: sqliteFixture,
  skip: {
    buildBeside:
      'no build beside the live data: every version of a projection would need the same table names in the one ' +
      'shared database, so a rebuild drops and refills the tables in place (capabilities.buildBeside is false)',
  },
})

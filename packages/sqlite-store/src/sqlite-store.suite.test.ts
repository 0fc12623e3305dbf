import { runProjectionStoreSuite, sqliteFixture } from '@eskit/store-test-suite'
import { sqliteStore } from './sqlite-store.js'

runProjectionStoreSuite({
  name: 'sqliteStore',
  createStore: (location) => sqliteStore({ dir: location }),
  fixture: sqliteFixture,
})

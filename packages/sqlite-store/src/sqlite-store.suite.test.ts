import fs from 'node:fs'
import path from 'node:path'
import { runProjectionStoreSuite, sqliteFixture } from '@eskit/store-test-suite'
import { requestRebuild } from './requests.js'
import { sqliteStore } from './sqlite-store.js'

// Every group on: the store supports builds beside, loss detection and outside requests.
runProjectionStoreSuite({
  name: 'sqliteStore',
  createStore: (location) => sqliteStore({ dir: location }),
  fixture: sqliteFixture,
  // as `eskit rebuild NAME --dir DIR` does while a process owns the directory
  requestRebuild: (location, name) => {
    requestRebuild(location, name)
  },
  // as an operator deleting the file under the running process
  loseData: (location, name) => {
    fs.rmSync(path.join(location, `${name}.db`))
  },
})

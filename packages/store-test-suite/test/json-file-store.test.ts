import type { ProjectionFixture, SuiteRow } from '../src/index.js'
import { runProjectionStoreSuite } from '../src/index.js'
import { type JsonDoc, jsonFileStore } from './json-file-store.js'

// The README's worked example, run through the whole suite: what a third-party author does.
const jsonFixture: ProjectionFixture<JsonDoc> = {
  setup(doc, table) {
    doc[table] = {}
  },
  insert(doc, table, row) {
    const rows = doc[table] as Record<string, SuiteRow>
    if (rows[row.id]) throw new Error(`duplicate row ${row.id}`)
    rows[row.id] = row
  },
  rows(doc, table) {
    return Object.values((doc[table] ?? {}) as Record<string, SuiteRow>).sort(
      (a, b) => a.position - b.position,
    )
  },
}

runProjectionStoreSuite({
  name: 'jsonFileStore (README example)',
  createStore: (location) => jsonFileStore({ dir: location }),
  fixture: jsonFixture,
})

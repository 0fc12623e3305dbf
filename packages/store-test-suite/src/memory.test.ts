import {
  createMemoryEventStore,
  createMemoryEventStoreState,
  createMemoryStoreState,
  type MemoryStore,
  memoryStore,
} from '@eskit/core'
import { runEventStoreSuite } from './event-store/index.js'
import { memoryFixture } from './fixtures.js'
import { runProjectionStoreSuite } from './projection-store/index.js'

// The memory stores keep their data in a state object: one per location makes "reopen the same
// location" give the same data, as a file would.
const eventStates = new Map<string, ReturnType<typeof createMemoryEventStoreState>>()
const storeStates = new Map<string, ReturnType<typeof createMemoryStoreState>>()

function once<T>(map: Map<string, T>, key: string, create: () => T): T {
  let value = map.get(key)
  if (!value) {
    value = create()
    map.set(key, value)
  }
  return value
}

runEventStoreSuite({
  name: 'createMemoryEventStore',
  create: (location) =>
    createMemoryEventStore({ state: once(eventStates, location, createMemoryEventStoreState) }),
})

runProjectionStoreSuite({
  name: 'memoryStore',
  createStore: (location) => memoryStore({ state: once(storeStates, location, createMemoryStoreState) }),
  fixture: memoryFixture,
  requestRebuild: (_location, name, store) => {
    ;(store as MemoryStore).requestRebuild(name)
  },
})

runProjectionStoreSuite({
  name: 'memoryStore rebuilding in place, detecting loss',
  createStore: (location) =>
    memoryStore({
      state: once(storeStates, location, createMemoryStoreState),
      buildBeside: false,
      detectsLoss: true,
    }),
  fixture: memoryFixture,
  requestRebuild: (_location, name, store) => {
    ;(store as MemoryStore).requestRebuild(name)
  },
  loseData: (_location, name, store) => {
    ;(store as MemoryStore).state.projections.delete(name)
  },
})

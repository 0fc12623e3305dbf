export { type EventStoreGroup, type EventStoreSuiteOptions, runEventStoreSuite } from './event-store-suite.js'
export {
  memoryFixture,
  type ProjectionFixture,
  type SqliteLike,
  type SuiteRow,
  sqliteFixture,
} from './fixtures.js'
export {
  type ProjectionStoreGroup,
  type ProjectionStoreSuiteOptions,
  runProjectionStoreSuite,
} from './projection-store-suite.js'

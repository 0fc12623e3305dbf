export * from './event-store/index.js'
export {
  memoryFixture,
  type ProjectionFixture,
  type SqliteLike,
  type SuiteRow,
  sqliteFixture,
} from './fixtures.js'
export * from './projection-store/index.js'

export { createTestDatabase, type TestDatabase } from './database.ts'
export {
  type PostgresServer,
  randomDatabaseName,
  type StartPostgresOptions,
  startPostgres,
} from './server.ts'
export { serverUrl, useTestDatabase } from './vitest.ts'

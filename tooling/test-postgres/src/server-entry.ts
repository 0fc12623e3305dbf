// What processes outside vitest use (the bench, crash harnesses, child processes): no vitest import.
export { createTestDatabase, type TestDatabase } from './database.ts'
export {
  type PostgresServer,
  randomDatabaseName,
  type StartPostgresOptions,
  startPostgres,
} from './server.ts'

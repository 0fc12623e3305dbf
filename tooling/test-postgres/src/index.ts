export { createTestDatabase, serverUrl, type TestDatabase, useTestDatabase } from './database.js'
export {
  type PostgresServer,
  randomDatabaseName,
  type StartPostgresOptions,
  startPostgres,
} from './server.js'

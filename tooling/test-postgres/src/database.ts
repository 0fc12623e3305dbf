import pg from 'pg'
import { randomDatabaseName } from './server.ts'

/**
 * A fresh database created by {@link createTestDatabase}.
 *
 * @example
 * ```ts
 * const database = await createTestDatabase(serverUrl())
 * const pool = new pg.Pool({ connectionString: database.url })
 * await pool.end()
 * await database.drop()
 * ```
 */
export interface TestDatabase {
  /** Its connection URL, usable from child processes too. */
  readonly url: string
  readonly name: string
  /** Drops it, ending connections that are still open. */
  drop(): Promise<void>
}

/**
 * Creates a fresh, empty database on `server` (a connection URL) and returns its URL.
 *
 * @example
 * ```ts
 * const { url, drop } = await createTestDatabase(server.url())
 * ```
 */
export async function createTestDatabase(server: string, prefix = 'test'): Promise<TestDatabase> {
  const name = randomDatabaseName(prefix)
  await withClient(server, (client) => client.query(`CREATE DATABASE ${name}`))
  const target = new URL(server)
  target.pathname = `/${name}`
  return {
    url: target.toString(),
    name,
    drop: async () => {
      await withClient(server, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    },
  }
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  // A server that goes away meanwhile must not crash the test run with an unhandled 'error'.
  client.on('error', () => {})
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

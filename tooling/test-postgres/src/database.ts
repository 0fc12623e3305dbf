import pg from 'pg'
import { afterAll, beforeAll, inject } from 'vitest'
import { randomDatabaseName } from './server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's server (admin database), set by `@eskit/test-postgres/global-setup`. */
    eskitPostgresUrl: string
  }
}

/**
 * A fresh database created by {@link createTestDatabase}.
 *
 * @example
 * ```ts
 * const database = await createTestDatabase()
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
 * The URL of this test run's server: `ESKIT_PG_URL` when set, else the cluster that
 * `@eskit/test-postgres/global-setup` started for the run.
 *
 * @example
 * ```ts
 * const admin = new pg.Client({ connectionString: serverUrl() })
 * ```
 */
export function serverUrl(): string {
  const fromEnv = process.env.ESKIT_PG_URL
  if (fromEnv) return fromEnv
  const provided = inject('eskitPostgresUrl')
  if (!provided) {
    throw new Error(
      "no PostgreSQL for this test run: add globalSetup: [testPostgresSetup] (from '@eskit/test-postgres/config') or set ESKIT_PG_URL",
    )
  }
  return provided
}

/**
 * Creates a fresh, empty database on `server` (default: {@link serverUrl}) and returns its URL.
 *
 * @example
 * ```ts
 * const { url, drop } = await createTestDatabase()
 * ```
 */
export async function createTestDatabase(
  server: string = serverUrl(),
  prefix = 'test',
): Promise<TestDatabase> {
  const name = randomDatabaseName(prefix)
  await withClient(server, (client) => client.query(`CREATE DATABASE ${name}`))
  const target = new URL(server)
  target.pathname = `/${name}`
  return {
    url: target.toString(),
    name,
    drop: () => withClient(server, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  }
}

/**
 * Registers `beforeAll`/`afterAll` in the current file (or `describe`): one fresh database for
 * it, dropped afterwards. Returns a getter for its URL.
 *
 * @example
 * ```ts
 * const databaseUrl = useTestDatabase()
 * it('appends', async () => {
 *   const events = await openPostgresEventStore({ connectionString: databaseUrl() })
 * })
 * ```
 */
export function useTestDatabase(prefix?: string): () => string {
  let database: TestDatabase | undefined
  beforeAll(async () => {
    database = await createTestDatabase(serverUrl(), prefix)
  })
  afterAll(async () => {
    await database?.drop()
    database = undefined
  })
  return () => {
    if (!database) throw new Error('the test database is only available inside the tests of its file')
    return database.url
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

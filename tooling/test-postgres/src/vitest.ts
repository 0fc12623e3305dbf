import { afterAll, beforeAll, inject } from 'vitest'
import { createTestDatabase, type TestDatabase } from './database.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's server (admin database), set by `@eskit/test-postgres/global-setup`. */
    eskitPostgresUrl: string
  }
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

import type { TestProject } from 'vitest/node'
import './vitest.ts'
import { startPostgres } from './server.ts'

/**
 * vitest `globalSetup`: one PostgreSQL cluster for the whole test run (unless `ESKIT_PG_URL`
 * names a server), handed to the test files through `inject('eskitPostgresUrl')`.
 *
 * @example
 * ```ts
 * // vitest.config.ts
 * export default defineProject({ test: { globalSetup: [testPostgresSetup] } })
 * ```
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.ESKIT_PG_URL
  if (existing) {
    project.provide('eskitPostgresUrl', existing)
    return async () => {}
  }
  const server = await startPostgres()
  project.provide('eskitPostgresUrl', server.url())
  return () => server.close()
}

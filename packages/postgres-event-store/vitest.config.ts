import { testPostgresSetup } from '@eskit/test-postgres/config'
import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/postgres-event-store',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One PostgreSQL cluster for the run; each test file creates its own database on it.
    globalSetup: [testPostgresSetup],
    // Starting a cluster of its own (outage tests) takes about a second; on a loaded shared
    // machine many more. These bound a hang, they do not time anything.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})

import { testPostgresSetup } from '@eskit/test-postgres/config'
import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'yoyopass',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One PostgreSQL for the run (the cluster tests); each such test file creates its own database.
    globalSetup: [testPostgresSetup],
    // the process-level tests (nodes, PostgreSQL, rebuilds) share the machine with the in-process
    // ones: a loaded machine must not turn a slow test into a failed one
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})

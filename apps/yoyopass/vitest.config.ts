import { testPostgresSetup } from '@eskit/test-postgres/config'
import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'yoyopass',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One PostgreSQL for the run (the cluster tests); each such test file creates its own database.
    globalSetup: [testPostgresSetup],
  },
})

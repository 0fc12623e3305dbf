import { testPostgresSetup } from '@eskit/test-postgres/config'
import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/dashboard',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // the browser tests serve dist/ (the page as it is published): build it when the sources are newer
    // and the cluster test a real PostgreSQL (one cluster per run, one database per test file)
    globalSetup: ['test/global-setup.ts', testPostgresSetup],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})

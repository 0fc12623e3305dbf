import { defineProject } from 'vitest/config'
import { testPostgresSetup } from './src/config.ts'

export default defineProject({
  test: {
    name: '@eskit/test-postgres',
    include: ['src/**/*.test.ts'],
    globalSetup: [testPostgresSetup],
    // A cluster of its own takes about a second to start; on a loaded machine many more.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})

import { defineProject } from 'vitest/config'
import { testPostgresSetup } from './src/config.ts'

export default defineProject({
  test: {
    name: '@eskit/test-postgres',
    include: ['src/**/*.test.ts'],
    globalSetup: [testPostgresSetup],
  },
})

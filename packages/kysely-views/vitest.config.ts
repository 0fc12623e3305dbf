import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/kysely-views',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
})

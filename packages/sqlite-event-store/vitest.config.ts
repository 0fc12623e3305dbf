import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/sqlite-event-store',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
})

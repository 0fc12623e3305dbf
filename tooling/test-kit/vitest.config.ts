import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/test-kit',
    include: ['src/**/*.test.ts'],
  },
})

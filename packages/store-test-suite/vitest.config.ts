import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/store-test-suite',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
})

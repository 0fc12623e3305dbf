import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/core',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
})

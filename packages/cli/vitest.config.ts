import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/cli',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
})

import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/shared-store',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
})

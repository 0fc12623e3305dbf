import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/dashboard',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // the browser tests serve dist/ (the page as it is published): build it when the sources are newer
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})

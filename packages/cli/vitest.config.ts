import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: '@eskit/cli',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // the process-level tests run dist/bin.mjs: build it when the sources are newer
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})

import { defineConfig } from 'vitest/config'

// Root config for `pnpm test:coverage`: one vitest project per package and app.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['**/*.test.ts', '**/dist/**'],
    },
  },
})

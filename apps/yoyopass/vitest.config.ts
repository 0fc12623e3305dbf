import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'yoyopass',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
})

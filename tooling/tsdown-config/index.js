import { defineConfig } from 'tsdown'

/**
 * The shared build: ESM only, declaration files, Node 22 target, `src/index.ts` as the entry.
 * Packages pass only what differs (extra entries, a CLI banner).
 *
 * @param {import('tsdown').UserConfig} [overrides]
 */
export function eskitConfig(overrides = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    platform: 'node',
    target: 'node22',
    dts: true,
    clean: true,
    sourcemap: false,
    unbundle: false,
    ...overrides,
  })
}

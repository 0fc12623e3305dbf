import path from 'node:path'
import { buildWhenStale } from '@eskit/test-kit'

/**
 * The browser tests serve the built package, `dist/`. `turbo run test` builds it first;
 * a direct `vitest run` after a source change builds it here, so the tests never serve a stale page.
 */
export default function setup(): void {
  buildWhenStale(path.resolve(import.meta.dirname, '..'), 'dist/index.mjs')
}

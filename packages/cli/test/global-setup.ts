import path from 'node:path'
import { buildWhenStale } from '@eskit/test-kit'

/**
 * The process-level tests run the real binary, `dist/bin.mjs`. `turbo run test` builds it first;
 * a direct `vitest run` after a source change builds it here, so the tests never run a stale binary.
 */
export default function setup(): void {
  buildWhenStale(path.resolve(import.meta.dirname, '..'), 'dist/bin.mjs')
}

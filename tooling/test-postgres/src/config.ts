import { fileURLToPath } from 'node:url'

/**
 * The path of this package's vitest `globalSetup`, for a package's `vitest.config.ts`.
 *
 * @example
 * ```ts
 * import { testPostgresSetup } from '@eskit/test-postgres/config'
 * export default defineProject({ test: { globalSetup: [testPostgresSetup] } })
 * ```
 */
export const testPostgresSetup: string = fileURLToPath(new URL('./global-setup.ts', import.meta.url))

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

function newestSource(folder: string): number {
  let newest = 0
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name)
    if (entry.name.endsWith('.test.ts')) continue
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs)
  }
  return newest
}

/**
 * Builds a package with tsdown when `built` (a file of its `dist/`) is older than its sources
 * or its package.json: process-level and browser tests that use the built package never run a
 * stale build after a direct `vitest run`. For a vitest `globalSetup`.
 *
 * @example
 * ```ts
 * // test/global-setup.ts
 * export default () => buildWhenStale(path.resolve(import.meta.dirname, '..'), 'dist/bin.mjs')
 * ```
 */
export function buildWhenStale(packageDir: string, built: string): void {
  const output = path.join(packageDir, built)
  const builtAt = fs.existsSync(output) ? fs.statSync(output).mtimeMs : 0
  const sources = Math.max(
    newestSource(path.join(packageDir, 'src')),
    fs.statSync(path.join(packageDir, 'package.json')).mtimeMs,
  )
  if (builtAt >= sources) return
  const tsdown = path.resolve(packageDir, '../../node_modules/tsdown/dist/run.mjs')
  execFileSync(process.execPath, [tsdown], { cwd: packageDir, stdio: 'inherit' })
}

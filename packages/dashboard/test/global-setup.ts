import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const packageDir = path.resolve(import.meta.dirname, '..')

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
 * The browser tests serve the built package, `dist/`. `turbo run test` builds it first;
 * a direct `vitest run` after a source change builds it here, so the tests never serve a stale page.
 */
export default function setup(): void {
  const binary = path.join(packageDir, 'dist', 'index.mjs')
  const built = fs.existsSync(binary) ? fs.statSync(binary).mtimeMs : 0
  const sources = Math.max(
    newestSource(path.join(packageDir, 'src')),
    fs.statSync(path.join(packageDir, 'package.json')).mtimeMs,
  )
  if (built >= sources) return
  const tsdown = path.resolve(packageDir, '../../node_modules/tsdown/dist/run.mjs')
  execFileSync(process.execPath, [tsdown], { cwd: packageDir, stdio: 'inherit' })
}

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * A fresh temporary directory and the function that removes it.
 *
 * @example
 * ```ts
 * const { dir, cleanup } = tempDir()
 * try { await run(dir) } finally { cleanup() }
 * ```
 */
export function tempDir(prefix = 'eskit-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

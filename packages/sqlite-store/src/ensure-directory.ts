import fs from 'node:fs'

/**
 * Creates a directory (and its parents) unless it exists. Node's recursive `mkdir` reports a
 * read-only filesystem as `ENOENT`; the error thrown here carries the real cause (`EROFS`,
 * `EACCES`), so it maps to `READ_ONLY` rather than a misleading "not found".
 */
export function ensureDirectory(dir: string): void {
  try {
    if (fs.statSync(dir).isDirectory()) return
  } catch {
    // missing: create it below
  }
  try {
    fs.mkdirSync(dir, { recursive: true })
  } catch (error) {
    // once more without `recursive`, which reports the real cause
    try {
      fs.mkdirSync(dir)
    } catch (precise) {
      if ((precise as NodeJS.ErrnoException).code === 'EEXIST') return
      throw precise
    }
    if (!fs.existsSync(dir)) throw error
  }
}

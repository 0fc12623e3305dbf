import fs from 'node:fs'

/**
 * The identity (device and inode) of the log file a store opened. A file deleted, or replaced by
 * another one (a restore, a `mv`), under the open store has another identity or none: the open
 * connection would go on writing to the old inode, and those appends would be gone at the next
 * open.
 */
export interface LogFileIdentity {
  readonly file: string
  /** True while `file` is still the file that was opened (one `stat`, a few microseconds). */
  same(): boolean
}

/** Records the identity of `file` as it is now (call right after opening it). */
export function logFileIdentity(file: string): LogFileIdentity {
  const opened = fs.statSync(file)
  return {
    file,
    same() {
      const now = fs.statSync(file, { throwIfNoEntry: false })
      return now !== undefined && now.ino === opened.ino && now.dev === opened.dev
    },
  }
}

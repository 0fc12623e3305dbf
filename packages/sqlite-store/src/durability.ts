import fs from 'node:fs'

/**
 * Flushes a file's data to disk. Only for files no SQLite connection of this process has open:
 * closing a descriptor drops every POSIX lock this process holds on the file.
 */
export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** Flushes a directory entry change (a rename, a new file) to disk. */
export function fsyncDirectory(dir: string): void {
  let fd: number
  try {
    fd = fs.openSync(dir, 'r')
  } catch {
    return // platforms that cannot open a directory have no directory fsync to do
  }
  try {
    fs.fsyncSync(fd)
  } catch (error) {
    // some filesystems refuse fsync on a directory: the rename is then as durable as they make it
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF' && code !== 'EPERM') throw error
  } finally {
    fs.closeSync(fd)
  }
}

/** Removes a file if it exists. */
export function removeIfExists(file: string): void {
  fs.rmSync(file, { force: true })
}

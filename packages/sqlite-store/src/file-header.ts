import fs from 'node:fs'

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * What the first 100 bytes of a file say about it.
 *
 * @example
 * ```ts
 * const header: FileHeader = readFileHeader(file)
 * const walMode = header.kind === 'sqlite' && header.wal
 * ```
 */
export type FileHeader =
  | { readonly kind: 'missing' }
  | { readonly kind: 'not-sqlite'; readonly reason: string }
  | { readonly kind: 'sqlite'; readonly wal: boolean }

/**
 * Reads a database file's header without SQLite, so nothing is created or locked: whether it is
 * a SQLite file at all and whether it is in WAL mode (header bytes 18/19 = 2). Use it from a
 * process that does not own the directory: closing a descriptor drops the POSIX locks SQLite
 * holds on the same file in this process.
 *
 * @example
 * ```ts
 * const header = readFileHeader('data/projections/passes.db')
 * if (header.kind === 'not-sqlite') logger.warn('not a SQLite file', { reason: header.reason })
 * ```
 */
export function readFileHeader(file: string): FileHeader {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' }
    throw error
  }
  try {
    const header = Buffer.alloc(100)
    const read = fs.readSync(fd, header, 0, 100, 0)
    if (read === 0) return { kind: 'not-sqlite', reason: 'the file is empty' }
    if (read < 100 || !header.subarray(0, 16).equals(SQLITE_MAGIC)) {
      return { kind: 'not-sqlite', reason: 'not a SQLite database (bad header)' }
    }
    return { kind: 'sqlite', wal: header[18] === 2 || header[19] === 2 }
  } finally {
    fs.closeSync(fd)
  }
}

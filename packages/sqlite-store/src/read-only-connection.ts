import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'

/** The part of a SQLite connection the inspection reads through: better-sqlite3's and node:sqlite's fit. */
export interface QueryConnection {
  prepare(source: string): { get(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] }
  close(): void
}

interface NodeSqlite {
  DatabaseSync: new (location: URL, options: { readOnly: boolean; timeout?: number }) => QueryConnection
}

/**
 * A read-only connection on a WAL-mode file whose `-wal` and `-shm` are present (an owner runs,
 * or was killed), that writes to none of the three. better-sqlite3 opens the `-shm` read-write
 * even for a read-only connection and updates it; SQLite's `readonly_shm` URI parameter opens it
 * read-only instead and reads under shared locks only, the WAL protocol's own consistency. It
 * takes a URI filename, which better-sqlite3 is built without, so this uses Node's built-in
 * SQLite (Node ≥ 22.13). `null` where Node has none: the caller reads a private copy.
 */
export function openSharedMemoryReader(file: string): QueryConnection | null {
  let sqlite: NodeSqlite | undefined
  try {
    sqlite = process.getBuiltinModule?.('node:sqlite') as unknown as NodeSqlite | undefined
  } catch {
    sqlite = undefined // behind a flag on this Node
  }
  if (sqlite?.DatabaseSync === undefined) return null
  const location = pathToFileURL(file)
  location.search = '?mode=ro&readonly_shm=1'
  return new sqlite.DatabaseSync(location, { readOnly: true, timeout: 2000 })
}

/** A read-only better-sqlite3 connection: for files in rollback-journal mode, or private copies. */
export function openDirectReader(file: string): QueryConnection {
  return new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 })
}

const COPY_ATTEMPTS = 5

/** Size and modification time of `file`, or a mark for a missing one. */
function fingerprint(file: string): string {
  const stat = fs.statSync(file, { throwIfNoEntry: false })
  return stat === undefined ? '-' : `${stat.size}:${stat.mtimeMs}:${stat.ino}`
}

/**
 * Runs `read` on a private copy of `file` and its `-wal`/`-journal`, so recovery (rolling back a
 * hot journal, replaying a WAL) happens in the copy and the original is left exactly as it is.
 * A copy taken while the owner wrote could mix two states: it is taken again (a few times) until
 * the files did not change while they were copied.
 */
export function withPrivateCopy<T>(file: string, read: (copy: string) => T): T {
  const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-inspect-'))
  try {
    const copy = path.join(copyDir, 'copy.db')
    const sources = [file, `${file}-wal`, `${file}-journal`]
    for (let attempt = 1; ; attempt++) {
      for (const suffix of ['', '-wal', '-journal']) fs.rmSync(`${copy}${suffix}`, { force: true })
      const before = sources.map(fingerprint).join('|')
      fs.copyFileSync(file, copy)
      for (const suffix of ['-wal', '-journal']) {
        if (fs.existsSync(`${file}${suffix}`)) fs.copyFileSync(`${file}${suffix}`, `${copy}${suffix}`)
      }
      if (sources.map(fingerprint).join('|') === before || attempt >= COPY_ATTEMPTS) break
    }
    // a writable connection on the copy performs any recovery the copy needs
    new Database(copy, { fileMustExist: true }).close()
    return read(copy)
  } finally {
    fs.rmSync(copyDir, { recursive: true, force: true })
  }
}

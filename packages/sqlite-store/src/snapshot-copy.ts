import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { EskitError, isEskitError } from '@eskit/core'
import { isSqliteCorruption } from '@eskit/core/sqlite'
import Database from 'better-sqlite3'
import { fsyncFile, removeIfExists } from './durability.js'
import { SQLITE_COMPANION_SUFFIXES } from './layout.js'
import { readProjectionMetadata } from './metadata.js'
import type { SnapshotFile } from './snapshot.js'

// How one projection file is copied for a snapshot: a consistent backup, made self-contained.

/** What a file that could not be read as a projection says, for the report. */
export class Unusable extends Error {}

export interface CopiedFile {
  readonly metadata: Pick<SnapshotFile, 'version' | 'logId' | 'position' | 'builtAt'>
}

export interface CopyInput {
  readonly source: string
  readonly temp: string
  readonly name: string
  readonly out: string
  readonly owned: boolean
  readonly pagesPerStep: number
  readonly signal: AbortSignal | undefined
  onSize(bytes: number): void
  onStep(bytesDone: number): void
}

/** Backs `source` up into `temp` inside one read transaction, then makes `temp` self-contained and durable. */
export async function copyFile(input: CopyInput): Promise<CopiedFile> {
  const { source, temp, name } = input
  let db: Database.Database
  try {
    db = openSource(source, input.owned)
  } catch (error) {
    if (isCorruption(error)) throw new Unusable((error as Error).message)
    throw error
  }
  try {
    let metadata: CopiedFile['metadata']
    let pageSize: number
    try {
      // One read transaction for the whole backup: every step reads the same committed state, so
      // the copy is consistent and a writer committing meanwhile never restarts it.
      db.exec('begin')
      const read = readProjectionMetadata(db)
      if (read.name !== name)
        throw new Unusable(`foreign file: it holds projection ${JSON.stringify(read.name)}`)
      metadata = { version: read.version, logId: read.logId, position: read.position, builtAt: read.builtAt }
      pageSize = db.pragma('page_size', { simple: true }) as number
      input.onSize(pageSize * (db.pragma('page_count', { simple: true }) as number))
    } catch (error) {
      if (error instanceof Unusable) throw error
      if (isCorruption(error)) throw new Unusable((error as Error).message)
      throw error
    }
    await db.backup(temp, {
      progress({ totalPages, remainingPages }) {
        input.onStep((totalPages - remainingPages) * pageSize)
        if (input.signal?.aborted) throw interrupted(input.out)
        return input.pagesPerStep
      },
    })
    db.exec('commit')
    settleCopy(temp, name, metadata.position)
    fsyncFile(temp)
    return { metadata }
  } finally {
    db.close()
  }
}

/**
 * A read-only connection to a live file. A file a crashed owner left needing recovery (a hot
 * journal) cannot be read read-only; when no process owns the directory, a writable connection
 * runs SQLite's own recovery first, as the next owner would.
 */
function openSource(file: string, owned: boolean): Database.Database {
  const readOnly = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 })
  try {
    readOnly.prepare('select count(*) from sqlite_master').get()
    return readOnly
  } catch (error) {
    readOnly.close()
    if (owned || !/^SQLITE_READONLY/.test(sqliteCode(error))) throw error
    return new Database(file, { fileMustExist: true, timeout: 5000 })
  }
}

/**
 * The backup copies page 1 as it is, WAL flag included: switch the copy to rollback-journal mode
 * so it is self-contained at rest, and check that it holds the checkpoint that was read.
 */
function settleCopy(temp: string, name: string, position: number): void {
  const db = new Database(temp, { fileMustExist: true })
  try {
    const mode = db.pragma('journal_mode = DELETE', { simple: true })
    if (mode !== 'delete') {
      throw new EskitError(
        'IO',
        `could not switch the copy of ${name} to rollback-journal mode (got ${String(mode)})`,
      )
    }
    const copied = readProjectionMetadata(db)
    if (copied.name !== name || copied.position !== position) {
      throw new EskitError('CORRUPT', `the copy of ${name} does not hold the checkpoint that was read`, {
        details: { name, expected: position, found: copied.position },
      })
    }
  } finally {
    db.close()
  }
  for (const suffix of SQLITE_COMPANION_SUFFIXES) removeIfExists(`${temp}${suffix}`)
}

/** The `sha256:` checksum the report gives for a copied file. */
export async function checksumOf(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer)
  return `sha256:${hash.digest('hex')}`
}

/** The error of an aborted snapshot. */
export function interrupted(out: string): EskitError {
  return new EskitError(
    'CLOSED',
    `the snapshot into ${out} was interrupted; the files it wrote were removed`,
    {
      details: { out },
    },
  )
}

const isCorruption = (error: unknown): boolean => isEskitError(error, 'CORRUPT') || isSqliteCorruption(error)

const sqliteCode = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''

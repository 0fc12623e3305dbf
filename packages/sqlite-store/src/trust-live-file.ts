import fs from 'node:fs'
import type { Logger } from '@eskit/core'
import type Database from 'better-sqlite3'
import { removeIfExists } from './durability.js'
import { readFileHeader } from './file-header.js'
import type { DirectoryLayout } from './layout.js'
import { quarantineFile } from './quarantine.js'
import type { Verdict } from './verify-file.js'

/**
 * What to open for a projection's live file: a fresh file (`verified`: an existing file was
 * checked and moved aside), or the existing file, trusted, with its writer connection.
 */
export type LiveFileDecision =
  | { readonly kind: 'fresh'; readonly verified: boolean }
  | { readonly kind: 'trusted'; readonly connection: Database.Database; readonly empty: boolean }

/**
 * The trust decisions for a projection's live file, before a slot is opened on it (behaviour 7):
 * a missing file starts fresh; an empty leftover of a crash is removed; a file that is not SQLite,
 * or that `verify` does not trust (foreign, built from another log, damaged), is moved to
 * quarantine with a log line and a fresh one starts. A -wal/-shm beside a rollback-journal file
 * belongs to the file it replaced and is removed, never replayed into it.
 */
export function decideLiveFile(options: {
  readonly layout: DirectoryLayout
  readonly name: string
  readonly file: string
  readonly logger: Logger
  readonly verify: () => Verdict
}): LiveFileDecision {
  const { layout, name, file, logger } = options
  const header = readFileHeader(file)
  if (header.kind === 'missing') return { kind: 'fresh', verified: false }
  if (header.kind === 'not-sqlite') {
    // a file created by a crash before its first page was written holds nothing
    if (fs.statSync(file).size === 0) removeIfExists(file)
    else quarantineFile(layout, name, file, header.reason, logger)
    return { kind: 'fresh', verified: false }
  }
  if (!header.wal) {
    // A file in rollback-journal mode has no WAL of its own: a -wal/-shm beside it was left by
    // the file this one replaced (a crash right after a swap) and must not be replayed into it.
    removeIfExists(`${file}-wal`)
    removeIfExists(`${file}-shm`)
  }
  const verdict = options.verify()
  if ('problem' in verdict) {
    quarantineFile(layout, name, file, verdict.problem, logger)
    return { kind: 'fresh', verified: true }
  }
  return { kind: 'trusted', connection: verdict.connection, empty: verdict.empty }
}

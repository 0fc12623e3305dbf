import { EskitError, type Logger, silentLogger } from '@eskit/core'
import type Database from 'better-sqlite3'

/** A batch runs in a transaction of its own, or in a savepoint inside the application's. */
export type TransactionKind = 'transaction' | 'savepoint'

export function inTransaction(db: Database.Database, work: () => void): void {
  const kind = begin(db)
  try {
    work()
    finish(db, kind)
  } catch (error) {
    rollback(db, kind, silentLogger)
    throw error
  }
}

// Inside a transaction the application opened on its own connection, a savepoint nests in it.
export function begin(db: Database.Database): TransactionKind {
  if (db.inTransaction) {
    db.exec('SAVEPOINT eskit_batch')
    return 'savepoint'
  }
  db.exec('BEGIN IMMEDIATE')
  return 'transaction'
}

export function finish(db: Database.Database, kind: TransactionKind): void {
  db.exec(kind === 'transaction' ? 'COMMIT' : 'RELEASE eskit_batch')
}

export function rollback(db: Database.Database, kind: TransactionKind, logger: Logger): void {
  try {
    if (kind === 'transaction') {
      if (db.inTransaction) db.exec('ROLLBACK')
    } else {
      db.exec('ROLLBACK TO eskit_batch')
      db.exec('RELEASE eskit_batch')
    }
  } catch (error) {
    logger.error('shared-store: rollback failed', {
      error: error instanceof Error ? error.message : String(error),
    })
  }
}

export function assertStillInTransaction(
  db: Database.Database,
  kind: TransactionKind,
  name: string,
  step: string,
): void {
  if (kind === 'transaction' && !db.inTransaction) {
    throw new EskitError(
      'PROJECTION_FAILED',
      `projection "${name}" ended the store's transaction in ${step} (COMMIT or ROLLBACK inside a projection is not allowed)`,
      { details: { name } },
    )
  }
}

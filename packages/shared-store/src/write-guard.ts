import type Database from 'better-sqlite3'
import { quoteIdentifier, quoteLiteral } from './schema-objects.js'

const OPERATIONS = ['insert', 'update', 'delete'] as const
const GUARD_MESSAGE = /^eskit: table "(.*)" belongs to projection "(.*)"$/s

/**
 * Catches a projection writing to another projection's table. Each owned table gets three
 * TEMP triggers (on this connection only: nothing is written to the database file) that abort
 * the statement when the projection currently applying a batch is not the table's owner. The
 * current projection sits in a one-row TEMP table, set inside each batch's transaction.
 *
 * Not caught: writes made through another connection, and writes to the application's own
 * tables (eskit does not guard what it did not create). Cost: one trigger check per written
 * row; turn it off with `guardWrites: false`.
 */
export interface WriteGuard {
  /** Marks `name` as the projection writing now (`null`: none, e.g. the application). */
  setCurrent(name: string | null): void
  /** Installs the triggers for `table`, owned by `owner` (replacing any for that table). */
  protect(table: string, owner: string): void
  /**
   * Removes the triggers of `table`. Needed before its projection is re-initialised: a table
   * dropped by another connection leaves this connection's TEMP triggers on it behind, and they
   * would clash with the ones for the new table.
   */
  unprotect(table: string): void
  /** Removes every guard object from the connection. */
  remove(): void
}

/**
 * Creates the guard objects on `db` (a TEMP table; triggers come with {@link WriteGuard.protect}).
 *
 * @example
 * ```ts
 * const guard = createWriteGuard(db)
 * guard.protect('passes', 'passes.pass_view')
 * ```
 */
export function createWriteGuard(db: Database.Database): WriteGuard {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS _eskit_current (name TEXT);
    DELETE FROM temp._eskit_current;
    INSERT INTO temp._eskit_current (name) VALUES (NULL);
  `)
  const setCurrent = db.prepare('UPDATE temp._eskit_current SET name = ?')
  const listGuards = db.prepare(
    `SELECT name FROM temp.sqlite_master WHERE type = 'trigger' AND substr(name, 1, length(?)) = ?`,
  )
  const dropGuards = (prefix: string): void => {
    for (const name of listGuards.pluck().all(prefix, prefix) as string[]) {
      db.exec(`DROP TRIGGER IF EXISTS temp.${quoteIdentifier(name)}`)
    }
  }
  let installation = 0
  return {
    setCurrent(name) {
      setCurrent.run(name)
    },
    protect(table, owner) {
      dropGuards(guardPrefix(table))
      const message = quoteLiteral(`eskit: table "${table}" belongs to projection "${owner}"`)
      // A fresh name each time: a table dropped by another connection leaves this connection's
      // TEMP triggers on it behind, impossible to drop, and a trigger created under the same
      // name would make SQLite reject the whole temp schema.
      installation++
      for (const operation of OPERATIONS) {
        const trigger = quoteIdentifier(`${guardPrefix(table)}${installation}_${operation}`)
        db.exec(`
          CREATE TEMP TRIGGER ${trigger} BEFORE ${operation.toUpperCase()} ON ${quoteIdentifier(table)}
          WHEN (SELECT name FROM temp._eskit_current) <> ${quoteLiteral(owner)}
          BEGIN SELECT RAISE(ABORT, ${message}); END;
        `)
      }
    },
    unprotect(table) {
      dropGuards(guardPrefix(table))
    },
    remove() {
      const triggers = db
        .prepare(
          `SELECT name FROM temp.sqlite_master WHERE type = 'trigger' AND name LIKE '\\_eskit\\_guard\\_%' ESCAPE '\\'`,
        )
        .all() as { name: string }[]
      for (const { name } of triggers) db.exec(`DROP TRIGGER IF EXISTS temp.${quoteIdentifier(name)}`)
      db.exec('DROP TABLE IF EXISTS temp._eskit_current')
    },
  }
}

/**
 * Reads a guard's abort message back: the table written and its owner, or `null` for any other error.
 *
 * @example
 * ```ts
 * parseGuardViolation(error) // { table: 'passes', owner: 'passes.pass_view' }
 * ```
 */
export function parseGuardViolation(error: unknown): { table: string; owner: string } | null {
  let current: unknown = error
  // The violation may be wrapped by a query builder; follow `cause` a few levels.
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const match = GUARD_MESSAGE.exec(current.message)
    if (match) return { table: match[1] ?? '', owner: match[2] ?? '' }
    current = current.cause
  }
  return null
}

function guardPrefix(table: string): string {
  return `_eskit_guard_${Buffer.from(table.toLowerCase()).toString('hex')}_`
}

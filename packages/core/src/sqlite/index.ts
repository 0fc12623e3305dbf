/**
 * `@eskit/core/sqlite`: the one place where SQLite errors become eskit codes, shared by every
 * SQLite-based package. Core's main entry knows nothing of SQLite.
 */
export { isSqliteCorruption, sqliteErrorCode, sqliteStorageFault, toEskitError } from './sqlite-errors.js'

import type Database from 'better-sqlite3'

/** The statements of the shared store, prepared once per connection. */
export interface Statements {
  getState: Database.Statement
  getPosition: Database.Statement
  resetState: Database.Statement
  swapCheckpoint: Database.Statement
  ownedBy: Database.Statement
  allOwned: Database.Statement
  missingTables: Database.Statement
  countOthers: Database.Statement
  ownerOf: Database.Statement
  deleteOwned: Database.Statement
  insertOwned: Database.Statement
  park: Database.Statement
  listParked: Database.Statement
  clearParked: Database.Statement
}

export function prepareStatements(db: Database.Database): Statements {
  return {
    getState: db.prepare(
      'SELECT name, version, log_id AS logId, position, built_at AS builtAt FROM _eskit_projections WHERE name = ?',
    ),
    getPosition: db.prepare('SELECT position FROM _eskit_projections WHERE name = ?'),
    resetState: db.prepare(
      `INSERT INTO _eskit_projections (name, version, log_id, position, built_at) VALUES (?, ?, ?, 0, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, log_id = excluded.log_id, position = 0,
       built_at = excluded.built_at`,
    ),
    swapCheckpoint: db.prepare('UPDATE _eskit_projections SET position = ? WHERE name = ? AND position = ?'),
    ownedBy: db.prepare(
      'SELECT name, type, tbl_name AS tableName, projection FROM _eskit_tables WHERE projection = ? ORDER BY rowid',
    ),
    countOthers: db.prepare('SELECT count(*) AS n FROM _eskit_projections WHERE name <> ?'),
    missingTables: db.prepare(
      `SELECT t.name FROM _eskit_tables t WHERE t.projection = ? AND t.type = 'table'
       AND NOT EXISTS (SELECT 1 FROM main.sqlite_master m WHERE m.type = 'table' AND m.name = t.name COLLATE NOCASE)`,
    ),
    allOwned: db.prepare(
      'SELECT name, type, tbl_name AS tableName, projection FROM _eskit_tables ORDER BY rowid',
    ),
    ownerOf: db.prepare('SELECT projection FROM _eskit_tables WHERE type = ? AND name = ?'),
    deleteOwned: db.prepare('DELETE FROM _eskit_tables WHERE projection = ?'),
    insertOwned: db.prepare(
      'INSERT INTO _eskit_tables (name, type, tbl_name, projection) VALUES (?, ?, ?, ?)',
    ),
    park: db.prepare(
      `INSERT OR REPLACE INTO _eskit_parked (projection, position, stream_id, type, error, attempts, parked_at, event)
       VALUES (@projection, @position, @streamId, @type, @error, @attempts, @parkedAt, @event)`,
    ),
    listParked: db.prepare(
      `SELECT position, stream_id AS streamId, type, error, attempts, parked_at AS parkedAt, event
       FROM _eskit_parked WHERE projection = ? ORDER BY position`,
    ),
    clearParked: db.prepare('DELETE FROM _eskit_parked WHERE projection = ?'),
  }
}

import fs from 'node:fs'
import type { BatchCommit, Projection, ProjectionSlot, SlotState } from '@eskit/core'
import { EskitError, isEskitError } from '@eskit/core'
import {
  assertBatchCommit,
  checkpointConflict,
  projectionError as classifyProjectionError,
  encodeParkedEvent,
  notInitialized,
  slotClosedError,
} from '@eskit/core/adapter'
import { isSqliteCorruption, sqliteStorageFault, toEskitError } from '@eskit/core/sqlite'
import type Database from 'better-sqlite3'
import { type ConnectionMode, openWriter, settleForRest } from './connection.js'
import { ESKIT_SCHEMA_SQL, FORMAT_VERSION, METADATA_TABLE, PARKED_TABLE } from './metadata.js'
import { selectParkedEvents } from './parked-events.js'
import { PARKED_INSERT_SQL } from './write-parked-events.js'

/** The identity of a file on disk: a deleted-and-recreated or replaced file has another one. */
interface FileIdentity {
  readonly dev: number
  readonly ino: number
}

/**
 * A projection slot on one SQLite file, with the store-side controls the `sqliteStore` needs
 * to swap files underneath: `detach` closes the connection but keeps the slot, `attach` reopens
 * it on the same path, `retire` closes the slot for good.
 */
export interface FileSlot extends ProjectionSlot {
  check(): 'ok' | 'lost'
  readonly file: string
  readonly mode: ConnectionMode
  /** The writer connection (the `Conn` of setup/apply); throws when detached or closed. */
  connection(): Database.Database
  /** Closes the connection (settled for rest when asked), keeping the slot for a later `attach`. */
  detach(settle: boolean): void
  /** (Re)opens the connection on `file` and records its identity. */
  attach(): void
  /** Marks the slot closed without touching the connection (already detached). */
  retire(): void
  /** True once an operation saw SQLite report corruption: the file must be checked before reuse. */
  readonly suspect: boolean
  /** Corruption was seen through another connection to the file (a reader): `check()` says lost. */
  markSuspect(): void
}

interface Statements {
  begin: Database.Statement
  commit: Database.Statement
  rollback: Database.Statement
  checkpoint: Database.Statement
  state: Database.Statement
  park: Database.Statement
}

const RESOLVED: Promise<void> = Promise.resolve()

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'

const quote = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`

/** Options of {@link createFileSlot}. */
export interface FileSlotOptions {
  readonly projection: Projection<Database.Database>
  readonly file: string
  readonly mode: ConnectionMode
  readonly busyTimeoutMs: number
  /** Creates eskit's tables first (a new, empty file). */
  readonly ensureSchema?: boolean
  /** An already open writer connection on `file` to use first (saves reopening a verified file). */
  readonly connection?: Database.Database
  /** Called when the slot is closed by its owner (the Collector), before the connection closes. */
  readonly beforeClose?: (slot: FileSlot) => void
}

/**
 * Opens a slot on `file` (which must exist and hold eskit's tables). The writer connection is
 * opened at once; statements for the checkpoint are prepared once and reused by every batch.
 */
export function createFileSlot(options: FileSlotOptions): FileSlot {
  const { projection, file, mode, busyTimeoutMs } = options
  const name = projection.name
  let db: Database.Database | null = null
  let statements: Statements | null = null
  let identity: FileIdentity | null = null
  let closed = false
  let suspect = false
  let handed: Database.Database | undefined = options.connection

  const usable = (): { db: Database.Database; statements: Statements } => {
    if (closed) throw slotClosedError(name)
    if (db === null || statements === null || !db.open) {
      throw new EskitError('IO', `the file of ${name} is being replaced; try again`, {
        details: { name, file },
      })
    }
    return { db, statements }
  }

  const storageError = (
    error: unknown,
    message: string,
    details: Record<string, unknown> = {},
  ): EskitError => {
    if (isSqliteCorruption(error)) suspect = true
    return toEskitError(error, message, { name, file, ...details })
  }

  /** An error thrown by the projection's own code: storage failures keep their own code. */
  const projectionError = (
    error: unknown,
    step: 'setup' | 'apply',
    details: Record<string, unknown> = {},
  ): EskitError => {
    // a storage fault a builder (kysely-views) already mapped keeps SQLite's error as its cause
    if (isSqliteCorruption(error) || (isEskitError(error, 'CORRUPT') && isSqliteCorruption(error.cause)))
      suspect = true
    return classifyProjectionError(name, step, error, {
      classify: (thrown) =>
        sqliteStorageFault(thrown)
          ? storageError(thrown, `${step} of ${name} failed`, { step, ...details })
          : null,
      details,
    })
  }

  const rollbackQuietly = (conn: Database.Database, prepared: Statements): void => {
    try {
      if (conn.open && conn.inTransaction) prepared.rollback.run()
    } catch {
      // SQLite already rolled back (e.g. after SQLITE_FULL): nothing is left to undo
    }
  }

  const readState = (prepared: Statements): SlotState | null => {
    const row = prepared.state.get() as
      | { version: string; log_id: string; position: number; built_at: string }
      | undefined
    if (row === undefined) return null
    return { position: row.position, version: row.version, logId: row.log_id, builtAt: row.built_at }
  }

  const conflict = (prepared: Statements, batch: BatchCommit): EskitError => {
    const stored = readState(prepared)
    if (stored === null) return notInitialized(name)
    return checkpointConflict(name, batch.from, stored.position)
  }

  const finish = (conn: Database.Database, prepared: Statements, batch: BatchCommit): void => {
    if (!conn.inTransaction) {
      // SQLite rolled the transaction back after an error that apply caught, or apply ended it
      throw new EskitError(
        'IO',
        `the transaction of a batch of ${name} ended inside apply; the batch was not committed`,
        {
          details: { name, from: batch.from, to: batch.to },
        },
      )
    }
    try {
      if (batch.parked) {
        for (const parked of batch.parked) prepared.park.run(encodeParkedEvent(parked))
      }
      prepared.commit.run()
    } catch (error) {
      rollbackQuietly(conn, prepared)
      throw storageError(error, `could not commit a batch of ${name}`, { from: batch.from, to: batch.to })
    }
  }

  const finishAsync = async (pending: PromiseLike<unknown>, batch: BatchCommit): Promise<void> => {
    const conn = db
    const prepared = statements
    try {
      await pending
    } catch (error) {
      if (conn && prepared) rollbackQuietly(conn, prepared)
      throw projectionError(error, 'apply', { from: batch.from, to: batch.to })
    }
    // the slot may have been closed (connection rolled back) while apply awaited
    if (conn === null || prepared === null || conn !== db || !conn.open) {
      throw new EskitError('CLOSED', `the slot of ${name} was closed during the batch; it was rolled back`, {
        details: { name, from: batch.from, to: batch.to },
      })
    }
    finish(conn, prepared, batch)
  }

  const dropProjectionObjects = (conn: Database.Database): void => {
    const list = (): Array<{ type: string; name: string; sql: string | null }> =>
      conn
        .prepare(
          `select type, name, sql from sqlite_master
           where name not like '\\_eskit\\_%' escape '\\' and name not like 'sqlite\\_%' escape '\\'`,
        )
        .all() as Array<{ type: string; name: string; sql: string | null }>
    for (const object of list()) {
      if (object.type === 'view') conn.exec(`drop view if exists ${quote(object.name)}`)
      else if (object.type === 'trigger') conn.exec(`drop trigger if exists ${quote(object.name)}`)
    }
    // virtual tables first: dropping one drops its shadow tables too
    for (const object of list()) {
      if (object.type === 'table' && /^\s*create\s+virtual\s+table/i.test(object.sql ?? '')) {
        conn.exec(`drop table if exists ${quote(object.name)}`)
      }
    }
    for (const object of list()) {
      if (object.type === 'table') conn.exec(`drop table if exists ${quote(object.name)}`)
    }
    for (const object of list()) {
      if (object.type === 'index') conn.exec(`drop index if exists ${quote(object.name)}`)
    }
  }

  const slot: FileSlot = {
    name,
    file,
    mode,
    get suspect() {
      return suspect
    },

    connection() {
      return usable().db
    },

    markSuspect() {
      suspect = true
    },

    state() {
      try {
        return Promise.resolve(readState(usable().statements))
      } catch (error) {
        return Promise.reject(storageError(error, `could not read the state of ${name}`))
      }
    },

    async initialize(init) {
      const { db: conn, statements: prepared } = usable()
      if (typeof init?.version !== 'string' || init.version.length === 0) {
        throw new EskitError('INVALID_ARGUMENT', 'initialize needs a non-empty version', {
          details: { name },
        })
      }
      if (typeof init.logId !== 'string' || init.logId.length === 0) {
        throw new EskitError('INVALID_ARGUMENT', 'initialize needs a non-empty logId', { details: { name } })
      }
      // foreign keys would turn dropping a parent table into a cascade of checks, or a failure
      const foreignKeys = conn.pragma('foreign_keys', { simple: true }) === 1
      if (foreignKeys) conn.pragma('foreign_keys = OFF')
      try {
        try {
          prepared.begin.run()
          dropProjectionObjects(conn)
          conn.exec(ESKIT_SCHEMA_SQL)
          conn.exec(`delete from ${PARKED_TABLE}`)
        } catch (error) {
          rollbackQuietly(conn, prepared)
          throw storageError(error, `could not reset ${name}`)
        }
        try {
          const pending = projection.setup(conn)
          if (isThenable(pending)) await pending
        } catch (error) {
          rollbackQuietly(conn, prepared)
          throw projectionError(error, 'setup')
        }
        if (conn !== db || !conn.open || !conn.inTransaction) {
          throw new EskitError('CLOSED', `the slot of ${name} was closed during setup; it was rolled back`, {
            details: { name },
          })
        }
        try {
          conn
            .prepare(
              `insert or replace into ${METADATA_TABLE}
               (id, name, version, log_id, position, format_version, built_at) values (1, ?, ?, ?, 0, ?, ?)`,
            )
            .run(name, init.version, init.logId, FORMAT_VERSION, new Date().toISOString())
          prepared.commit.run()
        } catch (error) {
          rollbackQuietly(conn, prepared)
          throw storageError(error, `could not initialise ${name}`)
        }
      } finally {
        if (foreignKeys && conn.open) conn.pragma('foreign_keys = ON')
      }
    },

    commit(batch) {
      let conn: Database.Database
      let prepared: Statements
      try {
        ;({ db: conn, statements: prepared } = usable())
        assertBatchCommit(batch)
        prepared.begin.run()
      } catch (error) {
        return Promise.reject(storageError(error, `could not begin a batch of ${name}`))
      }
      let pending: unknown
      try {
        // compare-and-swap first: a conflicting batch never runs apply
        if (prepared.checkpoint.run(batch.to, batch.from).changes !== 1) {
          rollbackQuietly(conn, prepared)
          return Promise.reject(conflict(prepared, batch))
        }
      } catch (error) {
        rollbackQuietly(conn, prepared)
        return Promise.reject(storageError(error, `could not move the checkpoint of ${name}`))
      }
      try {
        if (batch.events.length > 0) pending = projection.apply(batch.events, conn)
      } catch (error) {
        rollbackQuietly(conn, prepared)
        return Promise.reject(projectionError(error, 'apply', { from: batch.from, to: batch.to }))
      }
      if (isThenable(pending)) return finishAsync(pending, batch)
      // fast path: begin, apply and commit ran in one synchronous stretch
      try {
        finish(conn, prepared, batch)
      } catch (error) {
        return Promise.reject(error)
      }
      return RESOLVED
    },

    async parked() {
      const { db: conn } = usable()
      try {
        return selectParkedEvents(conn)
      } catch (error) {
        throw storageError(error, `could not read the parked events of ${name}`)
      }
    },

    check() {
      // closed by the store (replaced by a swap that could not finish): the collector reopens
      if (closed) return 'lost'
      if (suspect || db === null || identity === null) return 'lost'
      try {
        const stat = fs.statSync(file)
        return stat.ino === identity.ino && stat.dev === identity.dev ? 'ok' : 'lost'
      } catch {
        return 'lost'
      }
    },

    async close() {
      if (closed) return
      options.beforeClose?.(slot)
      slot.detach(mode === 'live')
      closed = true
    },

    detach(settle) {
      const conn = db
      db = null
      statements = null
      identity = null
      if (conn === null || !conn.open) return
      if (settle) settleForRest(conn)
      conn.close()
    },

    attach() {
      if (closed) throw new EskitError('CLOSED', `the slot of ${name} is closed`, { details: { name } })
      slot.detach(false)
      let conn: Database.Database
      try {
        conn = handed ?? openWriter(file, mode, busyTimeoutMs)
        handed = undefined
      } catch (error) {
        throw storageError(error, `could not open the file of ${name}`)
      }
      try {
        if (options.ensureSchema) conn.exec(ESKIT_SCHEMA_SQL)
        const stat = fs.statSync(file)
        statements = {
          begin: conn.prepare('begin immediate'),
          commit: conn.prepare('commit'),
          rollback: conn.prepare('rollback'),
          checkpoint: conn.prepare(`update ${METADATA_TABLE} set position = ? where id = 1 and position = ?`),
          state: conn.prepare(
            `select version, log_id, position, built_at from ${METADATA_TABLE} where id = 1`,
          ),
          park: conn.prepare(PARKED_INSERT_SQL),
        }
        identity = { dev: stat.dev, ino: stat.ino }
        db = conn
      } catch (error) {
        statements = null
        conn.close()
        throw storageError(error, `could not prepare the file of ${name}`)
      }
    },

    retire() {
      slot.detach(false)
      closed = true
    },
  }
  slot.attach()
  return slot
}

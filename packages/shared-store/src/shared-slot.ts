import {
  type BatchCommit,
  EskitError,
  type Logger,
  type ParkedEvent,
  type Projection,
  type ProjectionSlot,
  type SlotState,
} from '@eskit/core'
import {
  assertBatchCommit,
  checkpointConflict,
  decodeParkedEvent,
  encodeParkedEvent,
  notInitialized,
  slotClosedError,
} from '@eskit/core/adapter'
import { toEskitError } from '@eskit/core/sqlite'
import type Database from 'better-sqlite3'
import type { OwnedObjectRow, ParkedRow, ProjectionRow } from './eskit-tables.js'
import {
  eskitObjectsSignature,
  isVirtualTable,
  listSchemaObjects,
  objectKey,
  ordinaryTables,
  quoteIdentifier,
} from './schema-objects.js'
import type { SerialQueue } from './serial-queue.js'
import {
  assertAttachedToOwnTables,
  assertNoClaimConflicts,
  assertSetupTouchedNothingElse,
  dryRunSetup,
  type OwnerLookup,
} from './setup-conflicts.js'
import { applyError, setupError } from './shared-errors.js'
import type { Statements } from './shared-statements.js'
import {
  assertStillInTransaction,
  begin,
  finish,
  rollback,
  type TransactionKind,
} from './shared-transactions.js'
import type { WriteGuard } from './write-guard.js'

/** What a slot needs from the store that opened it. */
export interface SharedSlotHost {
  readonly queue: SerialQueue
  /** The store's logger (the collector's, once opened). */
  readonly logger: Logger
  /** The store is open (not yet closed). */
  isOpen(): boolean
  readonly guard: WriteGuard | undefined
  /** Guards are on (a second projection shares the database). */
  readonly guardsActive: boolean
  /** Turns the guards on when `including` makes the second projection. */
  activateGuards(including: string): void
  readonly ownerOf: OwnerLookup
  /** The slot closed: the store forgets it. */
  release(slot: SharedSlot): void
}

/** One projection's view of the shared database. */
export class SharedSlot implements ProjectionSlot {
  readonly name: string
  #closed = false
  readonly #host: SharedSlotHost

  constructor(
    private readonly projection: Projection<Database.Database>,
    private readonly db: Database.Database,
    private readonly sql: Statements,
    host: SharedSlotHost,
  ) {
    this.name = projection.name
    this.#host = host
  }

  markClosed(): void {
    this.#closed = true
  }

  #check(): void {
    if (this.#closed || !this.#host.isOpen()) {
      throw slotClosedError(this.name)
    }
  }

  state(): Promise<SlotState | null> {
    return this.#host.queue.run(() => {
      this.#check()
      const row = this.sql.getState.get(this.name) as ProjectionRow | undefined
      if (!row) return null
      const missing = this.#missingTables()
      if (missing.length > 0) {
        // Its checkpoint no longer describes data that exists: the slot starts empty.
        this.#host.logger.warn('shared-store: tables of the projection are gone; it will be rebuilt', {
          projection: this.name,
          missing,
        })
        return null
      }
      return { position: row.position, version: row.version, logId: row.logId, builtAt: row.builtAt }
    })
  }

  #schemaVersion = -1
  #lost = false

  check(): 'ok' | 'lost' {
    if (this.#closed || !this.#host.isOpen()) return 'ok'
    // The schema version moves with every schema change, on any connection: the tables are
    // looked up only when it moved since the last check.
    const version = this.db.pragma('schema_version', { simple: true }) as number
    if (version !== this.#schemaVersion) {
      this.#schemaVersion = version
      this.#lost = this.sql.getPosition.get(this.name) !== undefined && this.#missingTables().length > 0
    }
    return this.#lost ? 'lost' : 'ok'
  }

  #missingTables(): string[] {
    return (this.sql.missingTables.all(this.name) as { name: string }[]).map((row) => row.name)
  }

  initialize(init: { version: string; logId: string }): Promise<void> {
    return this.#host.queue.run(async () => {
      this.#check()
      if (typeof init?.version !== 'string' || typeof init.logId !== 'string') {
        throw new EskitError('INVALID_ARGUMENT', 'initialize needs { version: string, logId: string }')
      }
      const { db, sql, name, projection } = this
      const ownerOf = this.#host.ownerOf
      // Before touching anything: would setup claim a table that is not this projection's?
      const wanted = await dryRunSetup(projection, this.#host.logger)
      if (wanted) assertNoClaimConflicts(name, wanted, listSchemaObjects(db), ownerOf)
      this.#check()
      this.#host.activateGuards(name)
      const kind = begin(db)
      try {
        const owned = sql.ownedBy.all(name) as OwnedObjectRow[]
        for (const row of owned) if (row.type === 'table') this.#host.guard?.unprotect(row.name)
        dropOwnedObjects(db, owned)
        sql.deleteOwned.run(name)
        sql.clearParked.run(name)
        const before = listSchemaObjects(db)
        const eskitBefore = eskitObjectsSignature(db)
        this.#host.guard?.setCurrent(name)
        try {
          await projection.setup(db)
        } catch (error) {
          throw setupError(name, error, ownerOf)
        }
        assertStillInTransaction(db, kind, name, 'setup')
        const after = listSchemaObjects(db)
        if (eskitObjectsSignature(db) !== eskitBefore) {
          throw new EskitError(
            'SCHEMA_CONFLICT',
            `setup of projection "${name}" changed eskit's own tables: names starting with _eskit_ are reserved`,
            { details: { name, owner: 'eskit' } },
          )
        }
        assertSetupTouchedNothingElse(name, before, after, ownerOf)
        const known = new Set(before.map((object) => `${object.type}:${objectKey(object.name)}`))
        const created = after.filter((object) => !known.has(`${object.type}:${objectKey(object.name)}`))
        assertAttachedToOwnTables(name, created, ownerOf)
        for (const object of created) sql.insertOwned.run(object.name, object.type, object.tableName, name)
        sql.resetState.run(name, init.version, init.logId, new Date().toISOString())
        const guard = this.#host.guard
        if (guard && this.#host.guardsActive) {
          const tables = ordinaryTables(db)
          for (const object of created) {
            if (object.type === 'table' && tables.has(objectKey(object.name)))
              guard.protect(object.name, name)
          }
        }
        this.#host.guard?.setCurrent(null)
        finish(db, kind)
        this.#host.logger.info('shared-store: projection initialised', {
          projection: name,
          version: init.version,
          objects: created.map((object) => object.name),
        })
      } catch (error) {
        rollback(db, kind, this.#host.logger)
        throw toEskitError(error, `could not initialise projection "${name}"`, { name })
      }
    })
  }

  commit(batch: BatchCommit): Promise<void> {
    return this.#host.queue.run(() => {
      this.#check()
      assertBatchCommit(batch)
      const { db, name, projection } = this
      const kind = begin(db)
      let applied: unknown
      try {
        // Checked before apply too, so a stale batch fails as a conflict, not as apply's error.
        assertCheckpoint(this.sql, name, batch.from)
      } catch (error) {
        rollback(db, kind, this.#host.logger)
        throw error
      }
      try {
        this.#host.guard?.setCurrent(name)
        if (batch.events.length > 0) applied = projection.apply(batch.events, db)
      } catch (error) {
        rollback(db, kind, this.#host.logger)
        throw applyError(name, batch, error)
      }
      // Fast path: a synchronous apply commits without a single await inside the transaction.
      if (!isPromiseLike(applied)) return this.#finishBatch(kind, batch)
      return Promise.resolve(applied).then(
        () => this.#finishBatch(kind, batch),
        (error: unknown) => {
          rollback(db, kind, this.#host.logger)
          throw applyError(name, batch, error)
        },
      )
    })
  }

  #finishBatch(kind: TransactionKind, batch: BatchCommit): void {
    const { db, sql, name } = this
    try {
      assertStillInTransaction(db, kind, name, 'apply')
      const moved = sql.swapCheckpoint.run(batch.to, name, batch.from).changes
      if (moved !== 1) {
        assertCheckpoint(sql, name, batch.from)
        throw checkpointConflict(name, batch.from, null)
      }
      for (const parked of batch.parked ?? []) {
        sql.park.run({ projection: name, ...encodeParkedEvent(parked) })
      }
      this.#host.guard?.setCurrent(null)
      finish(db, kind)
    } catch (error) {
      rollback(db, kind, this.#host.logger)
      throw toEskitError(error, `could not commit a batch of projection "${name}"`, { name })
    }
  }

  parked(): Promise<ParkedEvent[]> {
    return this.#host.queue.run(() => {
      this.#check()
      const rows = this.sql.listParked.all(this.name) as ParkedRow[]
      return rows.map(decodeParkedEvent)
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#host.release(this)
  }
}

function assertCheckpoint(sql: Statements, name: string, expected: number): void {
  const row = sql.getPosition.get(name) as { position: number } | undefined
  if (!row) throw notInitialized(name)
  if (row.position !== expected) throw checkpointConflict(name, expected, row.position)
}

function dropOwnedObjects(db: Database.Database, owned: readonly OwnedObjectRow[]): void {
  const current = new Map(
    listSchemaObjects(db).map((object) => [`${object.type}:${objectKey(object.name)}`, object]),
  )
  const rank = (row: OwnedObjectRow): number => {
    if (row.type === 'trigger') return 0
    if (row.type === 'view') return 1
    if (row.type === 'index') return 2
    const object = current.get(`table:${objectKey(row.name)}`)
    // A virtual table first: dropping it removes its shadow tables with it.
    return object && isVirtualTable(object) ? 3 : 4
  }
  const ordered = [...owned].sort((a, b) => rank(a) - rank(b))
  for (const row of ordered) db.exec(`DROP ${row.type.toUpperCase()} IF EXISTS ${quoteIdentifier(row.name)}`)
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

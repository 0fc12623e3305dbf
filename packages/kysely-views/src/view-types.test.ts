/**
 * Type tests: `tsc --noEmit` (pnpm typecheck) checks every `@ts-expect-error` below and fails if
 * a line marked as an error compiles. The declarations run nowhere; vitest only checks that the
 * file loads and that the `expectTypeOf` assertions (no-ops at run time) are reached.
 */
import type { Collector, Projection, ProjectionStore, StoredEvent } from '@eskit/core'
import type Database from 'better-sqlite3'
import type { InsertResult, Kysely, UpdateResult } from 'kysely'
import { describe, expectTypeOf, test } from 'vitest'
import { type PassEvent, type PassTables, passMigrations, passStatements } from '../test/fixtures.js'
import type { BoundQuery } from './bound-query.js'
import { createReader } from './create-reader.js'
import { defineStatements, type Params } from './define-statements.js'
import { defineView, type View } from './define-view.js'

type PassRow = PassTables['passes']

// Declared, never called: compile-time checks only.
function compileTimeOnly(collector: Collector) {
  defineView<PassTables, PassEvent>({
    name: 'types',
    version: '1',
    migrations: passMigrations,
    on: {
      PassIssued: (e, db) => {
        expectTypeOf(e).toEqualTypeOf<StoredEvent<'PassIssued', { passId: string; holder: string }>>()
        expectTypeOf(e.data.holder).toBeString()
        expectTypeOf(e.position).toBeNumber()
        return db.insertInto('passes').values({ id: e.data.passId, holder: e.data.holder, scans: 0 })
      },
      PassScanned: (e, _db, tx) => {
        // @ts-expect-error PassScanned has no holder
        e.data.holder
        const row = tx.first(passStatements.find({ id: e.data.passId }))
        expectTypeOf(row).toEqualTypeOf<PassRow | undefined>()
        return passStatements.scan({ id: e.data.passId, at: e.data.at })
      },
      // @ts-expect-error an event type that is not in the union
      PassTeleported: () => undefined,
    },
  })

  defineView<PassTables, PassEvent>({
    name: 'types.columns',
    version: '1',
    migrations: passMigrations,
    on: {
      PassIssued: (e, db) => [
        // @ts-expect-error no such table
        db.insertInto('pass').values({ id: e.data.passId }),
        // @ts-expect-error no such column
        db.updateTable('passes').set({ scanz: 1 }).where('id', '=', e.data.passId),
        // @ts-expect-error wrong value type for a column
        db.updateTable('passes').set({ scans: 'many' }),
      ],
      // @ts-expect-error a handler returns queries, not promises: it must not execute them
      PassScanned: (_e, db) => db.deleteFrom('passes').execute(),
      // @ts-expect-error a handler returns queries (or nothing), not other values
      PassRevoked: (e, _db, tx) => tx.run(passStatements.find({ id: e.data.passId })),
    },
  })

  defineView<PassTables, PassEvent>({
    name: 'types.block',
    version: '1',
    migrations: [],
    on: {
      // a block body with no return, and one that returns on some paths only, are fine
      PassIssued: (_e, _db, tx) => {
        tx.run(passStatements.issue({ id: 'a', holder: 'b' }))
      },
      PassScanned: (e) => {
        if (e.data.at !== '') return passStatements.scan({ id: e.data.passId, at: e.data.at })
      },
    },
  })

  defineStatements((db: Kysely<PassTables>) => ({
    // @ts-expect-error a placeholder's type must fit the column
    wrong: (p: Params<{ id: number }>) => db.selectFrom('passes').selectAll().where('id', '=', p.id),
    // @ts-expect-error a placeholder that was not declared
    undeclared: (p: Params<{ id: string }>) => db.selectFrom('passes').selectAll().where('id', '=', p.passId),
  }))

  // @ts-expect-error a missing parameter
  passStatements.issue({ id: 'p-1' })
  // @ts-expect-error a parameter of the wrong type
  passStatements.scan({ id: 'p-1', at: 5 })
  // @ts-expect-error parameters are required when the statement has any
  passStatements.find()

  const reader = createReader(collector, passView)
  // a projection store is a reader source too
  createReader(collector.store, passView)
  createReader({} as ProjectionStore<Database.Database>, passView)
  // @ts-expect-error readers are typed by the view's tables
  reader.selectFrom('scans')
  return reader
}

async function readPass(reader: Kysely<PassTables>) {
  return reader.selectFrom('passes').selectAll().where('id', '=', 'p-1').executeTakeFirst()
}

async function readHolders(reader: Kysely<PassTables>) {
  return reader.selectFrom('passes').select(['holder', 'scans']).execute()
}

const passView = defineView<PassTables, PassEvent>({
  name: 'types.view',
  version: '1',
  migrations: passMigrations,
  on: {},
})

describe('types', () => {
  test('statements are typed by their Params and their query', () => {
    expectTypeOf(passStatements.issue).parameter(0).toEqualTypeOf<{ id: string; holder: string }>()
    expectTypeOf(passStatements.issue({ id: 'a', holder: 'b' })).toEqualTypeOf<BoundQuery<InsertResult>>()
    expectTypeOf(passStatements.scan({ id: 'a', at: 't' })).toEqualTypeOf<BoundQuery<UpdateResult>>()
    expectTypeOf(passStatements.find({ id: 'a' })).toEqualTypeOf<BoundQuery<PassRow>>()
    const none = defineStatements((db: Kysely<PassTables>) => ({
      all: () => db.selectFrom('passes').select('id'),
    }))
    expectTypeOf(none.all).toBeCallableWith()
    expectTypeOf(none.all()).toEqualTypeOf<BoundQuery<{ id: string }>>()
  })

  test('a view is a projection on a better-sqlite3 database, typed by its tables', () => {
    expectTypeOf(passView).toEqualTypeOf<View<PassTables>>()
    expectTypeOf(passView).toExtend<Projection<Database.Database>>()
    expectTypeOf(passView.eventTypes).toEqualTypeOf<readonly string[]>()
  })

  test('readers return Kysely typed by the view, with typed results', async () => {
    expectTypeOf(compileTimeOnly).returns.toEqualTypeOf<Kysely<PassTables>>()
    expectTypeOf(readPass).returns.resolves.toEqualTypeOf<PassRow | undefined>()
    expectTypeOf(readHolders).returns.resolves.toEqualTypeOf<{ holder: string; scans: number }[]>()
  })
})

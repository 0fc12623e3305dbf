import { EskitError } from '@eskit/core'
import { type Kysely, sql } from 'kysely'
import { describe, expect, test } from 'vitest'
import type { PassTables } from '../test/fixtures.js'
import { BoundQuery } from './bound-query.js'
import { defineStatements, type Params } from './define-statements.js'

describe('defineStatements', () => {
  const s = defineStatements((db: Kysely<PassTables>) => ({
    scan: (p: Params<{ id: string; at: string }>) =>
      db
        .updateTable('passes')
        .set((eb) => ({ scans: eb('scans', '+', 1), last_at: p.at }))
        .where('id', '=', p.id),
    twice: (p: Params<{ holder: string }>) =>
      db
        .selectFrom('passes')
        .select('id')
        .where((eb) => eb.or([eb('holder', '=', p.holder), eb('id', '=', p.holder)]))
        .limit(5),
    clear: () => db.deleteFrom('passes').where('scans', '>', 100),
    raw: (p: Params<{ id: string }>) =>
      sql<{ n: number }>`select count(*) as n from passes where id <> ${p.id}`,
  }))

  test('compiles each statement once to SQLite SQL with ? placeholders', () => {
    expect(s.scan.sql).toBe('update "passes" set "scans" = "scans" + ?, "last_at" = ? where "id" = ?')
    expect(s.scan.statementName).toBe('scan')
    expect(s.raw.sql).toBe('select count(*) as n from passes where id <> ?')
  })

  test('binds named parameters to their positions, keeping constants', () => {
    const bound = s.scan({ id: 'p-1', at: 't9' })
    expect(bound).toBeInstanceOf(BoundQuery)
    expect(bound.values).toEqual([1, 't9', 'p-1'])
    expect(bound.compile().parameters).toEqual([1, 't9', 'p-1'])
    expect(bound.compile().sql).toBe(s.scan.sql)
  })

  test('a parameter used twice is bound at both places; constants stay where they were', () => {
    expect(s.twice({ holder: 'Ada' }).values).toEqual(['Ada', 'Ada', 5])
    expect(s.clear().values).toEqual([100])
    expect(s.clear().definition.sql).toBe('delete from "passes" where "scans" > ?')
  })

  test('each binding is independent', () => {
    const a = s.scan({ id: 'a', at: '1' })
    const b = s.scan({ id: 'b', at: '2' })
    expect(a.values).toEqual([1, '1', 'a'])
    expect(b.values).toEqual([1, '2', 'b'])
    expect(a.definition).toBe(b.definition)
  })

  test('a factory that does not build a query is an INVALID_ARGUMENT naming it', () => {
    const attempt = () =>
      defineStatements((db: Kysely<PassTables>) => ({
        ok: () => db.selectFrom('passes').selectAll(),
        broken: () => {
          throw new Error('nope')
        },
      }))
    expect(attempt).toThrowError(EskitError)
    expect(attempt).toThrowError('statement "broken" could not be compiled: nope')
    expect(() => defineStatements(() => ({ notAFunction: 1 as never }))).toThrowError(
      '"notAFunction" is not a function',
    )
  })
})

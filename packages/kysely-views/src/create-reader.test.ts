import { EskitError } from '@eskit/core'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passRows, statementPassView, stored, tempDatabase } from '../test/fixtures.js'
import { createReader, type ReaderSource } from './create-reader.js'

// A stand-in for a collector: hands out a read-only connection per file and lets the test swap
// which file is "live", as a rebuild does.
function fileSource(files: Record<string, string>) {
  let live = Object.keys(files)[0] as string
  const connections = new Map<string, Database.Database>()
  const asked: string[] = []
  const source: ReaderSource = {
    reader(name: string) {
      asked.push(name)
      let connection = connections.get(live)
      if (!connection) {
        connection = new Database(files[live] as string, { readonly: true })
        connections.set(live, connection)
      }
      return connection
    },
  }
  return {
    source,
    asked,
    swap: (to: string) => {
      live = to
    },
    close: () => {
      for (const connection of connections.values()) connection.close()
    },
  }
}

describe('createReader', () => {
  const view = statementPassView('passes.view')
  let a: ReturnType<typeof tempDatabase>
  let b: ReturnType<typeof tempDatabase>
  let files: ReturnType<typeof fileSource>

  beforeEach(() => {
    a = tempDatabase()
    b = tempDatabase()
    for (const [target, holder] of [
      [a, 'Ada'],
      [b, 'Bob'],
    ] as const) {
      view.setup(target.db)
      view.apply(
        [
          stored({ type: 'PassIssued', data: { passId: 'p1', holder } }),
          stored({ type: 'PassScanned', data: { passId: 'p1', at: 't1' } }),
          stored({ type: 'PassIssued', data: { passId: 'p2', holder: `${holder}2` } }),
        ],
        target.db,
      )
    }
    files = fileSource({ a: a.file, b: b.file })
  })
  afterEach(() => {
    files.close()
    a.cleanup()
    b.cleanup()
  })

  test('reads typed rows from the live connection, asked per query', async () => {
    const reader = createReader(files.source, view)
    const first = await reader
      .selectFrom('passes')
      .selectAll()
      .where('id', '=', 'p1')
      .executeTakeFirstOrThrow()
    expect(first).toEqual({ id: 'p1', holder: 'Ada', scans: 1, last_at: 't1' })
    files.swap('b')
    const after = await reader.selectFrom('passes').select(['holder', 'scans']).orderBy('id').execute()
    expect(after).toEqual([
      { holder: 'Bob', scans: 1 },
      { holder: 'Bob2', scans: 0 },
    ])
    expect(files.asked).toEqual(['passes.view', 'passes.view'])
  })

  test('binds parameters like the views do and streams results', async () => {
    const reader = createReader(files.source, view)
    const rows = await reader
      .selectFrom('passes')
      .select('id')
      .where('scans', '<', true as never)
      .execute()
    expect(rows).toEqual([{ id: 'p2' }])
    const chunks: unknown[][] = []
    for await (const row of reader.selectFrom('passes').select('id').orderBy('id').stream(1))
      chunks.push([row])
    expect(chunks).toEqual([[{ id: 'p1' }], [{ id: 'p2' }]])
  })

  test('introspection and raw sql with parameters work through a reader', async () => {
    const reader = createReader(files.source, view)
    const tables = await reader.introspection.getTables()
    expect(tables.map((table) => [table.name, table.columns.map((column) => column.name)])).toEqual([
      ['passes', ['id', 'holder', 'scans', 'last_at']],
    ])
    const { sql } = await import('kysely')
    const counted = await sql<{
      n: number
    }>`select count(*) as n from passes where holder like ${'Ada%'}`.execute(reader)
    expect(counted.rows).toEqual([{ n: 2 }])
  })

  test('refuses writes, transaction and connection statements with READ_ONLY, changing nothing', async () => {
    // the same connection the store writes with: the reader must refuse on its own
    const writable: ReaderSource = { reader: () => a.db }
    const reader = createReader(writable, view)
    const before = passRows(a.db)
    const attempts = [
      reader.insertInto('passes').values({ id: 'x', holder: 'x', scans: 0 }).execute(),
      reader.updateTable('passes').set({ scans: 99 }).execute(),
      reader.deleteFrom('passes').returningAll().execute(),
      reader.schema.dropTable('passes').execute(),
    ]
    for (const attempt of attempts) await expect(attempt).rejects.toMatchObject({ code: 'READ_ONLY' })
    const { sql } = await import('kysely')
    for (const statement of [sql`begin`, sql`pragma user_version = 7`, sql`attach ':memory:' as other`]) {
      await expect(statement.execute(reader)).rejects.toMatchObject({ code: 'READ_ONLY' })
    }
    await expect(
      reader.transaction().execute(async (trx) => trx.selectFrom('passes').selectAll().execute()),
    ).rejects.toMatchObject({
      code: 'INVALID_STATE',
    })
    expect(passRows(a.db)).toEqual(before)
    expect(a.db.inTransaction).toBe(false)
    expect(a.db.pragma('user_version', { simple: true })).toBe(0)
  })

  test('SQLite errors become EskitErrors naming the view and SQL; source errors pass through', async () => {
    const reader = createReader(files.source, view)
    const { sql } = await import('kysely')
    const error = await sql`select nope from passes`.execute(reader).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(EskitError)
    expect((error as EskitError).message).toContain(
      'reader of view "passes.view" failed; SQL: select nope from passes',
    )
    // a table or column the file does not have: the query (or the schema) is wrong, not the disk
    for (const query of [
      sql`select * from passes_v2`,
      sql`select nope from passes`,
      sql`select * from passes where`,
    ]) {
      const wrong = await query.execute(reader).catch((e: unknown) => e)
      expect(wrong).toMatchObject({ code: 'INVALID_QUERY', details: { view: 'passes.view' } })
      expect((wrong as EskitError).message).toContain(`SQL: ${query.compile(reader).sql}`)
    }
    const closed = new EskitError('CLOSED', 'collector stopped')
    const gone = createReader(
      {
        reader: () => {
          throw closed
        },
      },
      view,
    )
    await expect(gone.selectFrom('passes').selectAll().execute()).rejects.toBe(closed)
    expect(() => createReader({} as never, view)).toThrowError('createReader needs a collector')
  })
})

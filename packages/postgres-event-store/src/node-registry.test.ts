import {
  createCollector,
  createMemoryEventStore,
  isEskitError,
  memoryStore,
  type ProjectionStatus,
} from '@eskit/core'
import { useTestDatabase } from '@eskit/test-postgres'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createNodeRegistry, type NodeRegistry } from './node-registry.js'
import { freshSchema, sql, until } from './test-helpers.js'

const databaseUrl = useTestDatabase('nodes')
const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function registry(nodeId: string, schema: string): NodeRegistry {
  const created = createNodeRegistry({ connectionString: databaseUrl(), nodeId, schema })
  cleanups.push(() => created.close())
  return created
}

const live = (name: string, position: number, head: number): ProjectionStatus => ({
  name,
  version: '1',
  state: 'live',
  position,
  head,
  lag: head - position,
})

describe('createNodeRegistry', () => {
  it('every node publishes its status to the log database and any node lists them all', async () => {
    const schema = freshSchema('nodes')
    const a = registry('node-a', schema)
    const b = registry('node-b', schema)
    await a.publish([live('passes', 10, 12)])
    await b.publish([live('passes', 12, 12)])
    await a.publish([live('passes', 12, 12)]) // an upsert: still one row per node
    const nodes = await b.list()
    expect(nodes.map((n) => [n.nodeId, n.projections])).toEqual([
      ['node-a', [live('passes', 12, 12)]],
      ['node-b', [live('passes', 12, 12)]],
    ])
    expect(nodes.every((n) => n.ageMs >= 0 && n.ageMs < 60_000 && !Number.isNaN(Date.parse(n.seenAt)))).toBe(
      true,
    )
    const rows = await sql<{ n: string }>(databaseUrl(), `SELECT count(*) AS n FROM ${schema}.eskit_nodes`)
    expect(rows[0]?.n).toBe('2')
  })

  it("ages a node that stopped publishing, on the database's clock", async () => {
    const schema = freshSchema('nodes')
    const a = registry('node-a', schema)
    await a.publish([live('passes', 1, 1)])
    await sql(databaseUrl(), `UPDATE ${schema}.eskit_nodes SET seen_at = now() - interval '5 minutes'`)
    const [node] = await a.list()
    expect(node?.ageMs).toBeGreaterThanOrEqual(300_000)
    expect(node?.ageMs).toBeLessThan(360_000)
  })

  it('follows a collector: its status is published now and again as it moves', async () => {
    const schema = freshSchema('nodes')
    const events = createMemoryEventStore()
    const collector = createCollector({ events, store: memoryStore() })
    collector.add({ name: 'counter', version: '1', setup() {}, apply() {} })
    await collector.start()
    cleanups.push(() => collector.stop())
    const pool = new pg.Pool({ connectionString: databaseUrl() })
    cleanups.push(() => pool.end())
    const a = createNodeRegistry({ pool, nodeId: 'node-a', schema })
    cleanups.push(() => a.close())
    a.follow(collector, { intervalMs: 100 })
    await until(
      async () => (await a.list())[0]?.projections[0]?.state === 'live',
      10_000,
      'the first publish',
    )
    const { position } = await events.append('s-1', [
      { type: 'T', data: {} },
      { type: 'T', data: {} },
    ])
    await collector.waitFor(position)
    await until(async () => (await a.list())[0]?.projections[0]?.position === 2, 10_000, 'the next publish')
    await a.close()
    // a pool passed in stays open
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 })
  })

  it('refuses a bad node id or schema with INVALID_ARGUMENT, touching nothing', () => {
    const codeOf = (make: () => unknown): string => {
      try {
        make()
        return 'created'
      } catch (error) {
        return isEskitError(error) ? error.code : String(error)
      }
    }
    expect(codeOf(() => createNodeRegistry({ connectionString: databaseUrl(), nodeId: 'a b' }))).toBe(
      'INVALID_ARGUMENT',
    )
    expect(codeOf(() => createNodeRegistry({ connectionString: databaseUrl(), nodeId: '' }))).toBe(
      'INVALID_ARGUMENT',
    )
    expect(
      codeOf(() =>
        createNodeRegistry({ connectionString: databaseUrl(), nodeId: 'a', schema: 'x; drop table y' }),
      ),
    ).toBe('INVALID_ARGUMENT')
  })
})

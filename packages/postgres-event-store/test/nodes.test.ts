import {
  createCollector,
  createMemoryStoreState,
  type EventStore,
  type MemoryConnection,
  memoryStore,
  type Projection,
  type StoredEvent,
} from '@eskit/core'
import { useTestDatabase } from '@eskit/test-postgres'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openPostgresEventStore } from '../src/open-postgres-event-store.js'
import { freshSchema, sql } from '../src/test-helpers.js'
import { assertBuilt, runWorker } from './processes.js'

const databaseUrl = useTestDatabase('nodes')
beforeAll(assertBuilt)
const closing: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close()
})

describe('several processes on one log', () => {
  it('commits forced out of order: a live collector sees every event exactly once, positions dense', async () => {
    const schema = freshSchema()
    const events: EventStore = await openPostgresEventStore({ connectionString: databaseUrl(), schema })
    closing.push(() => events.close())
    // Every seventh insert sleeps inside its transaction: with a sequence, later appends would
    // commit first and a reader would move past the slow one's position.
    await sql(
      databaseUrl(),
      `CREATE FUNCTION ${schema}.slow() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF (NEW.data->>'n')::int % 7 = 3 THEN PERFORM pg_sleep(0.02); END IF; RETURN NEW; END $$;
       CREATE TRIGGER slow BEFORE INSERT ON ${schema}.eskit_events FOR EACH ROW EXECUTE FUNCTION ${schema}.slow()`,
    )
    const seen: number[] = []
    const projection: Projection<MemoryConnection> = {
      name: 'positions',
      version: '1',
      setup: () => {},
      apply: (batch: readonly StoredEvent[]) => {
        for (const event of batch) seen.push(event.position)
      },
    }
    const collector = createCollector({
      events,
      store: memoryStore({ state: createMemoryStoreState() }),
      batchSize: 50,
    })
    collector.add(projection as Projection)
    await collector.start()
    closing.push(() => collector.stop())
    const nodes = ['n1', 'n2', 'n3']
    const results = await Promise.all(
      nodes.map((name) =>
        runWorker<{ acknowledged: Array<[number, number]> }>([
          'append',
          databaseUrl(),
          schema,
          name,
          '60',
          '4',
        ]),
      ),
    )
    const head = await events.head()
    // 60 appends per node, every fifth of two events
    expect(head).toBe(nodes.length * (60 + 12))
    await collector.waitFor(head, { timeoutMs: 20_000 })
    expect(seen).toEqual(Array.from({ length: head }, (_, i) => i + 1))
    const all = await events.readAll({ after: 0, limit: 10_000 })
    expect(all.map((e) => e.position)).toEqual(seen)
    // every acknowledged position holds that node's event
    for (const [index, name] of nodes.entries()) {
      for (const [n, position] of results[index]?.acknowledged ?? []) {
        expect(all[position - 1]?.data).toMatchObject({ node: name, n })
      }
    }
  })

  it('expectedVersion races across processes: each version is won exactly once', async () => {
    const schema = freshSchema()
    const versions = 40
    const results = await Promise.all(
      ['r1', 'r2', 'r3', 'r4'].map((name) =>
        runWorker<{ won: number[]; conflicts: number }>([
          'race',
          databaseUrl(),
          schema,
          name,
          String(versions),
        ]),
      ),
    )
    const won = results.flatMap((r) => r.won).sort((a, b) => a - b)
    expect(won).toEqual(Array.from({ length: versions }, (_, i) => i + 1))
    const rows = await sql<{ v: string; node: string }>(
      databaseUrl(),
      `SELECT stream_version::int AS v, data->>'node' AS node, (data->>'version')::int AS claimed FROM ${schema}.eskit_events ORDER BY position`,
    )
    expect(rows.map((row) => row.v)).toEqual(won)
    // the node that was told it won a version is the one whose event holds it
    for (const [index, name] of ['r1', 'r2', 'r3', 'r4'].entries()) {
      for (const version of results[index]?.won ?? []) expect(rows[version - 1]?.node).toBe(name)
    }
  })

  it('nodes opening the same fresh schema at once all get the same log', async () => {
    const schema = freshSchema()
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        runWorker<{ id: string; head: number }>(['open', databaseUrl(), schema]),
      ),
    )
    const ids = new Set(results.map((r) => r.id))
    expect(ids.size).toBe(1)
    expect(
      await sql(
        databaseUrl(),
        `SELECT key, value FROM ${schema}.eskit_meta WHERE key <> 'log_id' ORDER BY key`,
      ),
    ).toEqual([
      { key: 'format', value: 'eskit-event-log' },
      { key: 'version', value: '1' },
    ])
  })
})

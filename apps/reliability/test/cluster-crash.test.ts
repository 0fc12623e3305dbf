import { type PostgresServer, startPostgres } from '@eskit/test-postgres/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ClusterRunResult, runClusterCrash } from '../src/cluster-harness.ts'
import { recordResults } from '../src/results.ts'

// CI: ≥ 10 kills; `pnpm soak` sets ESKIT_CLUSTER_KILLS to a long run. ESKIT_CLUSTER_SEED replays one.
const seed = Number(process.env.ESKIT_CLUSTER_SEED ?? 20261201)
const kills = Number(process.env.ESKIT_CLUSTER_KILLS ?? 12)

// A private server: the run stops and starts it, which a shared one must never see.
let server: PostgresServer
beforeAll(async () => {
  server = await startPostgres()
}, 120_000)
afterAll(async () => {
  await server?.close()
})

describe('cluster crash test (three nodes on one PostgreSQL log)', () => {
  it(`survives ${kills} SIGKILLs of nodes and a PostgreSQL restart: nothing lost, every node equal to a fresh rebuild (seed ${seed})`, {
    timeout: 600_000,
  }, async () => {
    const result = await runClusterCrash({ server, seed, kills, nodes: 3, seedEvents: 5000 })
    process.stderr.write(`cluster crash: ${JSON.stringify(result)}\n`)
    record(result)
    expect(result.lostEvents).toBe(0)
    expect(result.divergent).toEqual([])
    expect(result.acknowledged).toBeGreaterThan(kills * 5)
    expect(result.head).toBeGreaterThan(5000)
    expect(result.rates.map((r) => r.nodes)).toEqual([1, 2, 3])
  })
})

function record(result: ClusterRunResult): void {
  const file = kills >= 50 ? 'cluster-soak' : 'cluster'
  const rates = result.rates
    .map(
      (r) =>
        `${r.nodes} node${r.nodes === 1 ? '' : 's'}: ${r.appendsPerSecond} appends/s (${r.eventsPerSecond} events/s)`,
    )
    .join(', ')
  recordResults(
    file,
    [
      {
        area: 'crash',
        case: `cluster: SIGKILL of one of three node processes on one PostgreSQL log at random instants, one server restart${kills >= 50 ? ' (pnpm soak)' : ''}`,
        tried: result.kills,
        held: result.lostEvents === 0 && result.divergent.length === 0 ? result.kills : 0,
        detail: `seed ${result.seed}; PostgreSQL down ${result.serverDownMs} ms, ${result.refusedWhileDown} appends refused with UNAVAILABLE meanwhile (never acknowledged); events lost: ${result.lostEvents}; divergent projections: ${result.divergent.length}; acknowledged appends checked: ${result.acknowledged}; final log ${result.head} events`,
      },
    ],
    {
      seed: result.seed,
      capacity: {
        appendRates: rates,
        readLoadPerNode: result.readLoad,
        newNode: result.newNode,
      },
      result,
    },
  )
}

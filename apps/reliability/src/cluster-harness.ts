import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventStore } from '@eskit/core'
import { openPostgresEventStore } from '@eskit/postgres-event-store'
import { snapshotProjections } from '@eskit/sqlite-store'
import { buildAndDump, sleep } from './build-dumps.ts'
import { workloadProjections } from './projections.ts'
import { createRandom } from './random.ts'

const CHILD = new URL('./cluster-child.ts', import.meta.url).pathname

/** The PostgreSQL server the run uses and restarts (e.g. `startPostgres()` of `@eskit/test-postgres`). */
export interface ClusterServer {
  url(database?: string): string
  stop(): Promise<void>
  start(): Promise<void>
}

export interface ClusterRunOptions {
  server: ClusterServer
  seed: number
  /** SIGKILLs of node processes, spread over the run. */
  kills: number
  /** Node processes (default 3). */
  nodes?: number
  /** Events in the log before the nodes start, so early kills land during their first build. */
  seedEvents?: number
  onKill?: (kill: { number: number; node: number; acknowledged: number }) => void
}

/** One phase of the capacity measurement: `nodes` processes appending with no kill. */
export interface AppendRate {
  nodes: number
  appendsPerSecond: number
  eventsPerSecond: number
}

export interface ClusterRunResult {
  seed: number
  kills: number
  serverRestarts: number
  /** How long PostgreSQL was down during its restart. */
  serverDownMs: number
  /** Appends refused with UNAVAILABLE while it was down (never acknowledged). */
  refusedWhileDown: number
  acknowledged: number
  head: number
  /** Acknowledged appends missing from the log (must be 0). */
  lostEvents: number
  /** `node/projection` whose dump differs from a fresh rebuild (must be empty). */
  divergent: string[]
  rates: AppendRate[]
  /** Per node process lifetime: readAll calls and events read per second. */
  readLoad: { callsPerSecond: number; eventsPerSecond: number }
  newNode: {
    /** Events in the log when the new node started. */
    events: number
    snapshotMs: number
    /** Log positions the node started from the snapshot read: those after the snapshot's checkpoints. */
    replayed: number
    /** From the start of the node on the snapshot to serving at the head. */
    fromSnapshotMs: number
    /** A node with no files: a full rebuild of the same log. */
    fullRebuildMs: number
  }
  durationMs: number
}

interface Running {
  readonly index: number
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  readonly acks: number[]
  startedAt: number
  reads: { calls: number; events: number }
  unavailable: number
  stderr: string
  buffered: string
}

/**
 * N node processes append to one PostgreSQL log and run the workload's projections, each on its
 * own directory, while the harness SIGKILLs nodes at seeded random instants (restarting each at
 * once) and restarts the PostgreSQL server once. At the end every acknowledged append must be in
 * the log, and every node's projections, recovered from the state the last kill left, must equal
 * a fresh rebuild (SHA-256 of a deterministic dump). It also measures appends/s from 1..N nodes,
 * the log read load per node and the time a new node takes from a snapshot vs a full rebuild.
 */
export async function runClusterCrash(options: ClusterRunOptions): Promise<ClusterRunResult> {
  const started = Date.now()
  const random = createRandom(options.seed)
  const nodeCount = options.nodes ?? 3
  const url = options.server.url()
  const root = mkdtempSync(join(tmpdir(), 'eskit-cluster-'))
  const events = await openPostgresEventStore({ connectionString: url })
  const all = new Set<Running>()
  const nodes: Running[] = []
  const acknowledged: number[] = []
  let processLifetimes = 0
  let readCalls = 0
  let readEvents = 0
  let refusedWhileDown = 0
  const spawnNode = (index: number): Running => {
    const child = spawn(
      process.execPath,
      [CHILD, join(root, `node-${index}`), url, String(random.int(1, 2 ** 31 - 1)), String(index)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const node: Running = {
      index,
      child,
      exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
      acks: [],
      startedAt: Date.now(),
      reads: { calls: 0, events: 0 },
      unavailable: 0,
      stderr: '',
      buffered: '',
    }
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      node.buffered += chunk
      const lines = node.buffered.split('\n')
      node.buffered = lines.pop() ?? ''
      for (const line of lines) take(node, line)
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      node.stderr += chunk
    })
    all.add(node)
    nodes[index] = node
    return node
  }
  const take = (node: Running, line: string): void => {
    if (line.startsWith('ack ')) node.acks.push(Number(line.slice(4)))
    else if (line === 'unavailable') node.unavailable += 1
    else if (line.startsWith('reads ')) {
      const [, calls, read] = line.split(' ')
      node.reads = { calls: Number(calls), events: Number(read) }
    }
  }
  const retire = async (node: Running): Promise<void> => {
    const code = await Promise.race([node.exited, Promise.resolve('running' as const)])
    if (code !== 'running')
      throw new Error(`node ${node.index} exited on its own (code ${code}): ${node.stderr}`)
    node.child.kill('SIGKILL')
    await node.exited
    // lines written before the kill may still sit in the pipe
    await sleep(20)
    for (const line of node.buffered.split('\n')) take(node, line)
    node.buffered = ''
    acknowledged.push(...node.acks)
    processLifetimes += (Date.now() - node.startedAt) / 1000
    readCalls += node.reads.calls
    readEvents += node.reads.events
    refusedWhileDown += node.unavailable
    all.delete(node)
  }
  const acksNow = (): number => [...all].reduce((n, node) => n + node.acks.length, 0)
  const waitForAcks = async (from: Running[], what: string): Promise<void> => {
    const marks = new Map(from.map((node) => [node, node.acks.length]))
    const deadline = Date.now() + 60_000
    while ([...marks].some(([node, mark]) => node.acks.length <= mark)) {
      for (const node of from) {
        if (node.child.exitCode !== null) throw new Error(`node ${node.index} exited: ${node.stderr}`)
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await sleep(20)
    }
  }

  try {
    for (let written = 0; written < (options.seedEvents ?? 0); written += 100) {
      await events.append(
        `seed-${written % 20}`,
        Array.from({ length: 100 }, (_, i) => ({ type: 'Opened', data: { amount: i, node: 'seed' } })),
      )
    }

    // capacity: 1, 2, … N nodes appending, no kill
    const rates: AppendRate[] = []
    for (let index = 0; index < nodeCount; index++) {
      const node = spawnNode(index)
      await waitForAcks([node], `node ${index} to append`)
      const from = acksNow()
      const head0 = await events.head()
      const t0 = performance.now()
      await sleep(1500)
      const seconds = (performance.now() - t0) / 1000
      rates.push({
        nodes: index + 1,
        appendsPerSecond: Math.round((acksNow() - from) / seconds),
        eventsPerSecond: Math.round(((await events.head()) - head0) / seconds),
      })
    }

    // chaos: random kills, one server restart half-way
    const restartAt = Math.max(1, Math.floor(options.kills / 2))
    let serverDownMs = 0
    for (let number = 1; number <= options.kills; number++) {
      await sleep(random.int(150, 700))
      if (number === restartAt) {
        const down = performance.now()
        await options.server.stop()
        await sleep(random.int(200, 600))
        await options.server.start()
        serverDownMs = Math.round(performance.now() - down)
        // every node resumes appending by itself
        await waitForAcks([...all], 'every node to append again after the server restart')
      }
      const index = random.int(0, nodeCount - 1)
      const victim = nodes[index] as Running
      await retire(victim)
      options.onKill?.({ number, node: index, acknowledged: acknowledged.length })
      spawnNode(index)
    }
    // the last state of each node is what a kill left
    for (const node of [...all]) await retire(node)

    const head = await events.head()
    const lostEvents = await countLost(events, acknowledged)

    // recover every node from what the kills left; compare with a fresh rebuild
    const expected = await buildAndDump(events, join(root, 'fresh'), workloadProjections('1'), head, {
      timeoutMs: 120_000,
    })
    const divergent: string[] = []
    for (let index = 0; index < nodeCount; index++) {
      const dumps = await buildAndDump(
        events,
        join(root, `node-${index}`, 'projections'),
        workloadProjections('1'),
        head,
        { timeoutMs: 120_000 },
      )
      for (const [name, sha] of expected) if (dumps.get(name) !== sha) divergent.push(`node-${index}/${name}`)
    }

    // a new node from a snapshot of node 0, after more events were appended
    const t2 = performance.now()
    const snapshot = await snapshotProjections({
      dir: join(root, 'node-0', 'projections'),
      out: join(root, 'node-new'),
    })
    const snapshotMs = Math.round(performance.now() - t2)
    for (let i = 0; i < 20; i++) {
      await events.append(
        `late-${i}`,
        Array.from({ length: 50 }, () => ({ type: 'Deposited', data: { amount: 1, node: 'late' } })),
      )
    }
    const finalHead = await events.head()
    const t3 = performance.now()
    const fromSnapshot = await buildAndDump(
      events,
      join(root, 'node-new'),
      workloadProjections('1'),
      finalHead,
      { timeoutMs: 120_000 },
    )
    const fromSnapshotMs = Math.round(performance.now() - t3)
    const t4 = performance.now()
    const rebuilt = await buildAndDump(events, join(root, 'fresh-2'), workloadProjections('1'), finalHead, {
      timeoutMs: 120_000,
    })
    const fullRebuildMs = Math.round(performance.now() - t4)
    for (const [name, sha] of rebuilt) if (fromSnapshot.get(name) !== sha) divergent.push(`node-new/${name}`)
    const replayed = finalHead - Math.min(...snapshot.projections.map((p) => p.position))

    return {
      seed: options.seed,
      kills: options.kills,
      serverRestarts: 1,
      serverDownMs,
      refusedWhileDown,
      acknowledged: acknowledged.length,
      head,
      lostEvents,
      divergent,
      rates,
      readLoad: {
        callsPerSecond: Math.round(readCalls / processLifetimes),
        eventsPerSecond: Math.round(readEvents / processLifetimes),
      },
      newNode: {
        events: finalHead,
        snapshotMs,
        replayed,
        fromSnapshotMs,
        fullRebuildMs,
      },
      durationMs: Date.now() - started,
    }
  } finally {
    for (const node of all) node.child.kill('SIGKILL')
    await Promise.all([...all].map((node) => node.exited))
    await events.close()
    rmSync(root, { recursive: true, force: true })
  }
}

async function countLost(events: EventStore, acknowledged: number[]): Promise<number> {
  const present = new Set<number>()
  let after = 0
  for (;;) {
    const batch = await events.readAll({ after, limit: 5000 })
    if (batch.length === 0) break
    for (const event of batch) present.add(event.position)
    after = batch[batch.length - 1]?.position ?? after
  }
  return acknowledged.filter((position) => !present.has(position)).length
}

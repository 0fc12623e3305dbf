import { type AppendResult, type EncodedEvent, EskitError, type ExpectedVersion } from '@eskit/core'
import type { Connections } from './connections.js'
import { LOG_TYPES } from './reader.js'

/** One append waiting for its group. */
interface Pending {
  streamId: string
  events: EncodedEvent[]
  expected: ExpectedVersion
  resolve: (result: AppendResult) => void
  reject: (error: unknown) => void
}

/** Options of {@link createGroupCommit}. */
export interface GroupCommitOptions {
  connections: Connections
  /** The schema, quoted. */
  schema: string
  lockTimeoutMs: number
  /** A group closes at this many events (one append is never split). */
  maxGroupEvents: number
  /** Called after each group committed, with the new head. */
  onCommitted: (head: number) => void
}

/** Appends of one process, committed together. */
export interface GroupCommit {
  append(streamId: string, events: EncodedEvent[], expected: ExpectedVersion): Promise<AppendResult>
  /** Resolves when every append handed in so far is settled. */
  drain(): Promise<void>
}

type Outcome = [ok: boolean, lastPosition: number | null, lastVersion: number | null, actual: number]

/**
 * Group commit: while one group is on its way to the server, the appends that arrive queue up and
 * go together in the next call of `eskit_append`, one statement and one transaction for all of
 * them. Each append keeps its own expected-version check, result and error: a stream at another
 * version fails that append alone. An append alone is sent at once (no waiting for company).
 */
export function createGroupCommit(options: GroupCommitOptions): GroupCommit {
  const { connections, schema } = options
  const sql = `SELECT * FROM ${schema}.eskit_append($1, $2, $3, $4, $5, $6)`
  const lockTimeout = `${options.lockTimeoutMs}ms`
  let queue: Pending[] = []
  let flushing: Promise<void> | undefined

  const take = (): Pending[] => {
    let events = 0
    let count = 0
    while (
      count < queue.length &&
      (count === 0 || events + (queue[count] as Pending).events.length <= options.maxGroupEvents)
    ) {
      events += (queue[count] as Pending).events.length
      count += 1
    }
    const group = queue.slice(0, count)
    queue = queue.slice(count)
    return group
  }

  const send = async (group: Pending[]): Promise<Outcome[]> => {
    const streams: string[] = []
    const expected: Array<number | null> = []
    const types: string[] = []
    const data: string[] = []
    const metadata: string[] = []
    for (const pending of group) {
      streams.push(pending.streamId)
      expected.push(
        pending.expected === 'any' ? null : pending.expected === 'no-stream' ? 0 : pending.expected,
      )
      // Already JSON: joined into one JSON array per append, never parsed or stringified again.
      types.push(JSON.stringify(pending.events.map((event) => event.type)))
      data.push(`[${pending.events.map((event) => event.data).join(',')}]`)
      metadata.push(`[${pending.events.map((event) => event.metadata ?? 'null').join(',')}]`)
    }
    const streamId = group.length === 1 ? (group[0] as Pending).streamId : undefined
    return connections.run(
      streamId === undefined
        ? `could not append ${group.length} appends`
        : `could not append to stream ${JSON.stringify(streamId)}`,
      async (client) => {
        const result = await client.query<Outcome>({
          text: sql,
          values: [streams, expected, types, data, metadata, lockTimeout],
          rowMode: 'array',
          types: LOG_TYPES,
        })
        return result.rows
      },
      streamId === undefined ? {} : { streamId },
    )
  }

  const settle = (group: Pending[], outcomes: Outcome[]): number => {
    let head = 0
    group.forEach((pending, index) => {
      const outcome = outcomes[index]
      if (!outcome) {
        pending.reject(new EskitError('IO', 'the event log returned no result for an append'))
        return
      }
      const [ok, position, version, actual] = outcome
      if (ok && position !== null && version !== null) {
        head = Math.max(head, position)
        pending.resolve({ position, streamVersion: version })
      } else {
        pending.reject(
          new EskitError(
            'CONCURRENCY',
            `stream ${JSON.stringify(pending.streamId)} is at version ${actual}, expected ${String(pending.expected)}`,
            { details: { streamId: pending.streamId, expected: pending.expected, actual } },
          ),
        )
      }
    })
    return head
  }

  const commit = async (group: Pending[]): Promise<void> => {
    let outcomes: Outcome[]
    try {
      outcomes = await send(group)
    } catch (error) {
      if (group.length > 1 && isDataError(error)) {
        // One append's data broke the statement (nothing of the group was written): each goes
        // again on its own so the others still commit and the bad one gets its own error.
        for (const pending of group) await commit([pending])
        return
      }
      for (const pending of group) pending.reject(error)
      return
    }
    const head = settle(group, outcomes)
    if (head > 0) options.onCommitted(head)
  }

  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      await commit(take())
      // One turn of the event loop: the callers just answered append again before the next group
      // closes, so N concurrent callers make groups of N rather than of 1 and N - 1.
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    flushing = undefined
  }

  return {
    append(streamId, events, expected) {
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ streamId, events, expected, resolve, reject })
        flushing ??= flush()
      })
    },
    async drain() {
      while (flushing) await flushing
    },
  }
}

// Errors about what was sent, not about the server or the connection.
function isDataError(error: unknown): boolean {
  if (!(error instanceof EskitError)) return false
  return error.code === 'INVALID_EVENT' || error.code === 'CONSTRAINT' || error.code === 'IO'
}

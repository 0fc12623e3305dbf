import fs from 'node:fs'
import path from 'node:path'
import type { EventStore } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import type { BenchContext } from '../context.ts'
import { removeDatabase } from '../logs.ts'
import { freshDir, rateRow } from '../measure.ts'
import { rawAppends } from '../raw.ts'
import { repeat } from '../stats.ts'
import { workloadEvent } from '../workload.ts'

const CASE = '6 event store'

/** Appends `count` events of the workload, `batch` per append, each to its own stream. */
async function eskitAppends(
  file: string,
  count: number,
  batch: number,
  synchronous: 'FULL' | 'NORMAL',
): Promise<number> {
  const store = openSqliteEventStore({ path: file, synchronous })
  try {
    const started = performance.now()
    for (let done = 0; done < count; done += batch) {
      const n = Math.min(batch, count - done)
      const events = Array.from({ length: n }, (_, k) => workloadEvent(done + k).event)
      await store.append(`bench-${done}`, events, { expectedVersion: 'no-stream' })
    }
    const ms = performance.now() - started
    if ((await store.head()) !== count)
      throw new Error(`appends: head ${await store.head()}, expected ${count}`)
    return ms
  } finally {
    await store.close()
  }
}

/** Reads the whole log in pages of 1,000; returns [ms, events read]. */
async function readAll(store: EventStore, types?: readonly string[]): Promise<[number, number]> {
  const started = performance.now()
  let after = 0
  let read = 0
  for (;;) {
    const page = await store.readAll({ after, limit: 1000, ...(types ? { types } : {}) })
    if (page.length === 0) break
    read += page.length
    after = page[page.length - 1]!.position
  }
  return [performance.now() - started, read]
}

/**
 * Case 6: the SQLite event store. Appends against a raw better-sqlite3 loop of insert
 * transactions into a table of the same shape; `readAll` (with JSON parsing) against the raw
 * rebuild rate of case 1.
 */
export async function eventStoreCase(ctx: BenchContext): Promise<void> {
  const {
    repeats,
    singleAppends,
    durableAppends,
    durableBatchedAppends,
    batchedAppends,
    appendBatch,
    events,
  } = ctx.config
  const dir = freshDir(ctx, 'event-store')
  const file = (name: string) => {
    const f = path.join(dir, name)
    removeDatabase(f)
    return f
  }

  // Both durabilities the store offers, each against raw with the same `synchronous`: FULL (the
  // store's default) fsyncs every commit, so there the disk, not the code, sets the pace.
  for (const synchronous of ['FULL', 'NORMAL'] as const) {
    for (const [count, batch, label] of [
      [synchronous === 'FULL' ? durableAppends : singleAppends, 1, 'one event per append'],
      [
        synchronous === 'FULL' ? durableBatchedAppends : batchedAppends,
        appendBatch,
        `${appendBatch} events per append`,
      ],
    ] as const) {
      ctx.log(`case ${CASE}: ${count} events, ${label}, synchronous ${synchronous}`)
      const raw = await repeat(repeats, async () => rawAppends(file('raw.db'), count, batch, synchronous))
      ctx.add(rateRow(CASE, `raw insert transactions, ${label}, sync ${synchronous}`, raw, count))
      const eskit = await repeat(repeats, async () =>
        eskitAppends(file('eskit.db'), count, batch, synchronous),
      )
      ctx.add(
        rateRow(
          CASE,
          `append(), ${label}, sync ${synchronous}${synchronous === 'FULL' ? ' (default)' : ''}`,
          eskit,
          count,
          { medianMs: raw.median, of: 'raw' },
          batch === 1 ? { text: '≥ 0.5× raw', min: 0.5 } : undefined,
        ),
      )
    }
  }

  const logFile = await ctx.logs.eskit(events)
  const store = openSqliteEventStore({ path: logFile })
  const reference = ctx.baselines.rawRebuildEventsPerSecond
  try {
    for (const types of [undefined, ['PassIssued']]) {
      ctx.log(`case ${CASE}: readAll ${types ? `types ${types.join(',')}` : 'all types'}`)
      let read = 0
      const summary = await repeat(repeats, async () => {
        const [ms, n] = await readAll(store, types)
        read = n
        return ms
      })
      const expectedRead = types ? Math.ceil(events / 3) : events
      if (read !== expectedRead) throw new Error(`readAll: read ${read} events, expected ${expectedRead}`)
      const row = rateRow(
        CASE,
        `readAll, pages of 1000, ${types ? 'types: [PassIssued]' : 'all types'}`,
        summary,
        read,
      )
      if (reference !== undefined && row.rate !== undefined) {
        row.ratio = row.rate / reference
        row.ratioOf = 'raw rebuild rate'
        if (!types) {
          row.target = '≥ 3× rebuild'
          row.met = row.ratio >= 3
        }
      }
      const recommended = ctx.baselines.recommendedRebuildEventsPerSecond
      const againstRecommended =
        recommended !== undefined && row.rate !== undefined
          ? `; ${(row.rate / recommended).toFixed(2)}× the recommended-style rebuild rate`
          : ''
      row.note = `${types ? `${read} of ${events} events match; rate counts events returned` : `${read} events, parsed`}${againstRecommended}`
      ctx.add(row)
    }
  } finally {
    await store.close()
  }
  fs.rmSync(dir, { recursive: true, force: true })
}

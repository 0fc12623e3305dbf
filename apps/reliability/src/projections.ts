import type { Projection, StoredEvent } from '@eskit/core'
import type Database from 'better-sqlite3'

type Db = Database.Database

/** Event types the workload appends. */
export const EVENT_TYPES = ['Opened', 'Deposited', 'Withdrawn', 'Noted'] as const

/**
 * Every event once, by position: applying an event twice breaks the primary key, skipping one
 * leaves a hole — either shows up in the dump.
 */
export const eventLog: Projection<Db> = {
  name: 'audit.event_log',
  version: '1',
  setup(db) {
    db.exec(`create table log (position integer primary key, stream_id text not null,
      stream_version integer not null, type text not null, data text not null)`)
  },
  apply(events, db) {
    const insert = db.prepare('insert into log values (?, ?, ?, ?, ?)')
    for (const e of events)
      insert.run(e.position, e.streamId, e.streamVersion, e.type, JSON.stringify(e.data))
  },
}

/** Counters: a double apply or a skip changes a number. */
export const byType: Projection<Db> = {
  name: 'stats.by_type',
  version: '1',
  setup(db) {
    db.exec('create table counts (type text primary key, n integer not null, last_position integer not null)')
  },
  apply(events, db) {
    const upsert = db.prepare(`insert into counts values (?, 1, ?)
      on conflict(type) do update set n = n + 1, last_position = excluded.last_position`)
    for (const e of events) upsert.run(e.type, e.position)
  },
}

/** A filtered projection (only money events), with balances per stream. */
export const balances: Projection<Db> = {
  name: 'accounts.balances',
  version: '1',
  eventTypes: ['Deposited', 'Withdrawn'],
  setup(db) {
    db.exec(
      'create table balances (stream_id text primary key, balance integer not null, moves integer not null)',
    )
  },
  apply(events, db) {
    const upsert = db.prepare(`insert into balances values (?, ?, 1)
      on conflict(stream_id) do update set balance = balance + excluded.balance, moves = moves + 1`)
    for (const e of events) {
      const amount = (e as StoredEvent<string, { amount: number }>).data.amount
      upsert.run(e.streamId, e.type === 'Deposited' ? amount : -amount)
    }
  },
}

/**
 * A projection whose version the harness changes between runs, so that restarts often find it
 * mid-build beside the old file (behaviour 6). `asyncApply` exercises the store's async path.
 */
export function mirror(version: string): Projection<Db> {
  return {
    name: 'audit.mirror',
    version,
    eventTypes: ['Opened', 'Noted'],
    setup(db) {
      db.exec(
        'create table notes (position integer primary key, stream_id text not null, type text not null)',
      )
    },
    async apply(events, db) {
      await Promise.resolve()
      const insert = db.prepare('insert into notes values (?, ?, ?)')
      for (const e of events) insert.run(e.position, e.streamId, e.type)
    },
  }
}

/** All projections of the workload, the mirror at `mirrorVersion`. */
export function workloadProjections(mirrorVersion: string): Projection<Db>[] {
  return [eventLog, byType, balances, mirror(mirrorVersion)]
}

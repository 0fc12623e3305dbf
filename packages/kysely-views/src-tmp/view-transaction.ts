import { EskitError } from '@eskit/core'
import { allRows, type ConnectionState, firstRow, runQuery } from './connection-state.ts'
import type { ViewQuery } from './view-query.ts'

/**
 * Synchronous access to the view's own tables inside a handler, on the batch's connection and
 * transaction: reads see the batch's earlier writes. Accepts Kysely queries and bound
 * statements (`defineStatements`); bound statements are the fast choice.
 *
 * @example
 * ```ts
 * PassScanned: (e, db, tx) => {
 *   const pass = tx.first(statements.find({ id: e.data.passId }))
 *   if (pass === undefined) return statements.insertUnknown({ id: e.data.passId })
 *   return statements.scan({ id: pass.id, at: e.data.at })
 * }
 * ```
 */
export interface ViewTransaction {
  /** Runs a write now (before the queries the handler returns); returns the change count. */
  run(query: ViewQuery): { changes: number; lastInsertRowid: number | bigint }
  /** Runs a query now and returns all its rows. */
  all<O>(query: ViewQuery<O>): O[]
  /** Runs a query now and returns its first row, or `undefined` when there is none. */
  first<O>(query: ViewQuery<O>): O | undefined
}

const transactions = new WeakMap<ConnectionState, ViewTransaction>()

/** The {@link ViewTransaction} of a connection (one object per connection, reused per event). */
export function viewTransaction(state: ConnectionState): ViewTransaction {
  let tx = transactions.get(state)
  if (tx === undefined) {
    // Outside a running batch a write would land outside the store's transaction, apart from
    // the checkpoint: a tx kept and used later (a timer, a promise) is refused.
    const active = (): ConnectionState => {
      if (state.running === 0) {
        throw new EskitError('INVALID_STATE', 'tx is only usable inside a view handler, while its batch runs')
      }
      return state
    }
    tx = {
      run: (query) => runQuery(active(), query),
      all: <O>(query: ViewQuery<O>) => allRows(active(), query) as O[],
      first: <O>(query: ViewQuery<O>) => firstRow(active(), query) as O | undefined,
    }
    transactions.set(state, tx)
  }
  return tx
}

/**
 * A query that failed while a view ran: carries the SQL so the view's error can name it.
 * Internal; `defineView` turns it into an `EskitError('PROJECTION_FAILED')`.
 */
export class QueryFailure extends Error {
  override readonly name = 'QueryFailure'
  readonly sql: string

  constructor(sql: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause })
    this.sql = sql
  }
}

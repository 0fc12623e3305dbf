/**
 * A request the domain refuses, with the HTTP status and a stable code for the JSON body.
 * Infrastructure errors stay `EskitError`s and are mapped in one place (`http-app.ts`).
 *
 * @example
 * ```ts
 * throw new RequestFailure(404, 'PASS_NOT_FOUND', 'pass "p-1" does not exist', { passId: 'p-1' })
 * ```
 */
export class RequestFailure extends Error {
  override readonly name = 'RequestFailure'
  readonly status: 400 | 404 | 409 | 413 | 415 | 422 | 503 | 504
  readonly code: string
  readonly details: Readonly<Record<string, unknown>>

  constructor(
    status: RequestFailure['status'],
    code: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message)
    this.status = status
    this.code = code
    this.details = details
  }
}

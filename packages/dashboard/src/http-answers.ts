import { isEskitError } from '@eskit/core'

/** Sent with every answer of the dashboard. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      ...SECURITY_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
  })
}

/** `{ error: { code, message } }`, the shape of every refusal. */
export function failure(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Response {
  return json(status, { error: { code, message } }, headers)
}

export function methodNotAllowed(allow: string): Response {
  return failure(405, 'METHOD_NOT_ALLOWED', `use ${allow}`, { allow })
}

/** The one place eskit error codes become HTTP statuses for the dashboard. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  NOT_FOUND: 404,
  INVALID_NAME: 400,
  INVALID_ARGUMENT: 400,
  INVALID_STATE: 409,
  CLOSED: 503,
}

export function errorResponse(error: unknown): Response {
  if (isEskitError(error)) return failure(STATUS_OF_CODE[error.code] ?? 500, error.code, error.message)
  return failure(500, 'INTERNAL', 'the dashboard could not answer')
}

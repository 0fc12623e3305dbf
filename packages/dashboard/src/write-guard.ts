import { createHash, timingSafeEqual } from 'node:crypto'

/** Why a write request was refused: the HTTP status and a stable code for the JSON answer. */
export interface WriteRefusal {
  readonly status: 401 | 403
  readonly code: 'WRITE_DISABLED' | 'CROSS_ORIGIN' | 'UNAUTHORIZED'
  readonly message: string
}

/** SHA-256 first, so the comparison is constant-time whatever the lengths. */
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()

/**
 * Checks a write request (the rebuild button): refused with 403 when no token is configured or
 * the request comes from another origin (`Origin`, `Sec-Fetch-Site`), with 401 when its
 * `Authorization: Bearer` token is missing or wrong. `null` when the request may write.
 */
export function checkWrite(
  request: Request,
  token: string | undefined,
  allowedOrigins: readonly string[],
): WriteRefusal | null {
  if (token === undefined) {
    return {
      status: 403,
      code: 'WRITE_DISABLED',
      message: 'this dashboard is read-only (no token configured)',
    }
  }
  const site = request.headers.get('sec-fetch-site')
  if (site !== null && site !== 'same-origin' && site !== 'none') {
    return {
      status: 403,
      code: 'CROSS_ORIGIN',
      message: `write requests from another site are refused (${site})`,
    }
  }
  const origin = request.headers.get('origin')
  if (origin !== null) {
    const own = new URL(request.url).origin
    if (origin !== own && !allowedOrigins.includes(origin)) {
      return { status: 403, code: 'CROSS_ORIGIN', message: 'write requests from another origin are refused' }
    }
  }
  const match = /^Bearer +(\S+) *$/i.exec(request.headers.get('authorization') ?? '')
  const presented = match?.[1]
  if (presented === undefined || !timingSafeEqual(digest(presented), digest(token))) {
    return {
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'a valid operator token is needed (Authorization: Bearer)',
    }
  }
  return null
}

import type { NewEvent } from '@eskit/core'

/** A service (a pool, a gym, a museum) was set up with the gates where its passes are scanned. */
export type ServiceCreated = NewEvent<
  'ServiceCreated',
  { serviceId: string; name: string; gates: string[]; at: string }
>

/** A pass of a service was issued to a holder, valid until `validUntil` (ISO date-time). */
export type PassIssued = NewEvent<
  'PassIssued',
  { passId: string; serviceId: string; holder: string; validUntil: string; at: string }
>

/** A pass was revoked; later scans are denied. */
export type PassRevoked = NewEvent<
  'PassRevoked',
  { passId: string; serviceId: string; reason: string; at: string }
>

/** Why a scan was denied. */
export type DenialReason = 'revoked' | 'expired'

/** A pass was scanned at a gate; the decision is part of the fact. */
export type PassScanned = NewEvent<
  'PassScanned',
  {
    passId: string
    serviceId: string
    gate: string
    at: string
    result: 'accepted' | 'denied'
    reason?: DenialReason
  }
>

/**
 * Every event of the pass-and-scan domain. Pass events carry `serviceId` so projections keyed by
 * service need no lookup.
 *
 * @example
 * ```ts
 * const issued: YoyoEvent = {
 *   type: 'PassIssued',
 *   data: { passId: 'p-1', serviceId: 's-1', holder: 'Ada', validUntil: '2030-01-01T00:00:00.000Z', at: new Date().toISOString() },
 * }
 * ```
 */
export type YoyoEvent = ServiceCreated | PassIssued | PassRevoked | PassScanned

/**
 * The stream of a service: `service-{id}`.
 *
 * @example
 * ```ts
 * serviceStream('pool') // 'service-pool'
 * ```
 */
export function serviceStream(serviceId: string): string {
  return `service-${serviceId}`
}

/**
 * The stream of a pass: `pass-{id}`; it holds the pass's issue, revocation and scans.
 *
 * @example
 * ```ts
 * passStream('p-1') // 'pass-p-1'
 * ```
 */
export function passStream(passId: string): string {
  return `pass-${passId}`
}

import { z } from 'zod'

/** Ids chosen by clients (service, pass, gate): short, URL- and stream-safe. */
const id = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'must be 1–64 chars of A-Z a-z 0-9 _ . -, starting with a letter or digit',
  )

const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`)

const instant = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time, e.g. 2026-01-31T09:00:00Z',
})

const streamVersion = z.number().int('must be an integer').min(1, 'must be at least 1')

/**
 * `POST /services` body.
 *
 * @example
 * ```ts
 * createServiceBody.parse({ name: 'City Pool', gates: ['north', 'south'] })
 * ```
 */
export const createServiceBody = z.strictObject({
  serviceId: id.optional(),
  name: text(120),
  gates: z
    .array(id)
    .min(1, 'a service needs at least one gate')
    .max(32, 'at most 32 gates')
    .refine((gates) => new Set(gates).size === gates.length, 'gate names must be unique'),
})

/**
 * `POST /passes` body. The pass stream must not exist yet (a new pass), so there is no
 * `expectedVersion` here: an existing `passId` is a `409`.
 *
 * @example
 * ```ts
 * issuePassBody.parse({ serviceId: 'pool', holder: 'Ada Lovelace' })
 * ```
 */
export const issuePassBody = z.strictObject({
  passId: id.optional(),
  serviceId: id,
  holder: text(120),
  validUntil: instant.optional(),
})

/**
 * `POST /passes/:passId/revoke` body; `expectedVersion` is the pass stream's version the client saw.
 *
 * @example
 * ```ts
 * revokePassBody.parse({ reason: 'lost card', expectedVersion: 3 })
 * ```
 */
export const revokePassBody = z.strictObject({
  reason: text(200),
  expectedVersion: streamVersion.optional(),
})

/**
 * `POST /passes/:passId/scans` body; `at` defaults to the server's clock.
 *
 * @example
 * ```ts
 * scanPassBody.parse({ gate: 'north' })
 * ```
 */
export const scanPassBody = z.strictObject({
  gate: id,
  at: instant.optional(),
  expectedVersion: streamVersion.optional(),
})

/**
 * A path parameter that is an id.
 *
 * @example
 * ```ts
 * idParam('passId').parse({ passId: 'p-1' })
 * ```
 */
export const idParam = (name: string) => z.strictObject({ [name]: id })

const flag = z.enum(['true', 'false', '1', '0'], { message: "must be 'true' or 'false'" }).optional()
const position = z.coerce
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .min(0, 'must be at least 0')
  .optional()
const limit = (max: number, fallback: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .default(fallback)
const day = z.iso.date({ message: 'must be a date, YYYY-MM-DD' })

/**
 * Consistency options every query accepts: `consistent=true` waits until the queried projections
 * include the log's current head; `after=POSITION` waits until they include that position
 * (a command's `position`).
 */
const consistency = { consistent: flag, after: position }

/**
 * `GET /services` query.
 *
 * @example
 * ```ts
 * listServicesQuery.parse({ consistent: 'true' })
 * ```
 */
export const listServicesQuery = z.strictObject({ ...consistency })

/**
 * `GET /passes` query.
 *
 * @example
 * ```ts
 * listPassesQuery.parse({ serviceId: 'pool', limit: '20' })
 * ```
 */
export const listPassesQuery = z.strictObject({
  ...consistency,
  serviceId: id.optional(),
  holder: text(120).optional(),
  status: z.enum(['active', 'revoked'], { message: "must be 'active' or 'revoked'" }).optional(),
  limit: limit(500, 50),
  offset: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be at least 0')
    .default(0),
})

/**
 * `GET /scans` and `GET /passes/:passId/scans` query: newest first, `before` pages back.
 *
 * @example
 * ```ts
 * listScansQuery.parse({ gate: 'north', limit: '10' })
 * ```
 */
export const listScansQuery = z.strictObject({
  ...consistency,
  serviceId: id.optional(),
  gate: id.optional(),
  result: z.enum(['accepted', 'denied'], { message: "must be 'accepted' or 'denied'" }).optional(),
  before: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .optional(),
  limit: limit(1000, 100),
})

/**
 * `GET /stats/daily` query: an inclusive day range.
 *
 * @example
 * ```ts
 * dailyStatsQuery.parse({ serviceId: 'pool', from: '2026-01-01', to: '2026-01-31' })
 * ```
 */
export const dailyStatsQuery = z.strictObject({
  ...consistency,
  serviceId: id.optional(),
  from: day.optional(),
  to: day.optional(),
})

/**
 * Consistency options only (single-item reads).
 *
 * @example
 * ```ts
 * consistencyQuery.parse({ after: '42' })
 * ```
 */
export const consistencyQuery = z.strictObject({ ...consistency })

/** The consistency fields of any query. */
export interface ConsistencyInput {
  consistent?: 'true' | 'false' | '1' | '0' | undefined
  after?: number | undefined
}

/**
 * One line per problem, `field: message`, for `400` answers.
 *
 * @example
 * ```ts
 * describeIssues(result.error.issues) // 'gates: a service needs at least one gate'
 * ```
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.path.length === 0 ? '' : `${issue.path.map(String).join('.')}: `
      if (issue.code === 'unrecognized_keys') return `${where}unknown field(s) ${issue.keys.join(', ')}`
      return `${where}${issue.message}`
    })
    .join('; ')
}

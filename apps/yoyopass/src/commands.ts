import { randomUUID } from 'node:crypto'
import { type EventStore, isEskitError, type StoredEvent } from '@eskit/core'
import {
  type DenialReason,
  type PassIssued,
  type PassRevoked,
  type PassScanned,
  passStream,
  type ServiceCreated,
  serviceStream,
  type YoyoEvent,
} from './events.ts'
import { RequestFailure } from './request-failure.ts'

/** What every command answers: where its last event landed (for `?after=`) and the stream version. */
export interface CommandResult {
  /** Global log position of the command's last event: pass it as `?after=` for read-your-writes. */
  position: number
  /** The stream's version after the command: pass it as `expectedVersion` next time. */
  streamVersion: number
}

interface ServiceState {
  version: number
  name: string
  gates: string[]
}

interface PassState {
  version: number
  serviceId: string
  validUntil: string
  revoked: boolean
}

// Streams are small (a service: one event; a pass: its issue, revocation and scans).
async function readStream(events: EventStore, streamId: string): Promise<StoredEvent[]> {
  try {
    return await events.readStream(streamId)
  } catch (error) {
    if (isEskitError(error, 'NOT_FOUND')) return []
    throw error
  }
}

async function loadService(events: EventStore, serviceId: string): Promise<ServiceState | undefined> {
  const stream = await readStream(events, serviceStream(serviceId))
  const created = stream.find((event) => event.type === 'ServiceCreated') as
    | StoredEvent<'ServiceCreated', ServiceCreated['data']>
    | undefined
  if (created === undefined) return undefined
  return { version: stream.length, name: created.data.name, gates: created.data.gates }
}

async function loadPass(events: EventStore, passId: string): Promise<PassState | undefined> {
  const stream = (await readStream(events, passStream(passId))) as StoredEvent<
    YoyoEvent['type'],
    YoyoEvent['data']
  >[]
  let state: PassState | undefined
  for (const event of stream) {
    if (event.type === 'PassIssued') {
      const data = event.data as PassIssued['data']
      state = { version: 0, serviceId: data.serviceId, validUntil: data.validUntil, revoked: false }
    } else if (event.type === 'PassRevoked' && state !== undefined) {
      state.revoked = true
    }
    if (state !== undefined) state.version = event.streamVersion
  }
  return state
}

function conflict(streamId: string, expected: number | 'no-stream', actual: number | null): RequestFailure {
  return new RequestFailure(
    409,
    'CONCURRENCY',
    `stream "${streamId}" is at version ${actual ?? 'none'}, the request expected ${expected}: reload and retry`,
    { streamId, expectedVersion: expected, actualVersion: actual },
  )
}

// Without a client `expectedVersion` the command decides on the state it read and appends with
// that state's version; a concurrent write in between makes it read and decide again, after a
// short random pause so that racing writers spread out.
const MAX_ATTEMPTS = 10

async function withRetry<T>(clientExpects: number | undefined, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      const concurrent = isEskitError(error, 'CONCURRENCY')
      if (!concurrent || clientExpects !== undefined) throw error
      if (attempt >= MAX_ATTEMPTS) {
        throw new RequestFailure(
          409,
          'CONCURRENCY',
          `the stream kept changing during ${MAX_ATTEMPTS} attempts: retry later`,
          { ...error.details, attempts: MAX_ATTEMPTS },
        )
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt))
    }
  }
}

/** Input of {@link createService}. */
export interface CreateServiceInput {
  serviceId?: string | undefined
  name: string
  gates: string[]
}

/**
 * Creates a service. The service's stream must not exist (`409 CONCURRENCY` otherwise).
 *
 * @example
 * ```ts
 * const { serviceId, position } = await createService(events, { name: 'City Pool', gates: ['north'] })
 * ```
 */
export async function createService(
  events: EventStore,
  input: CreateServiceInput,
  now: Date = new Date(),
): Promise<CommandResult & { serviceId: string }> {
  const serviceId = input.serviceId ?? randomUUID()
  const event: ServiceCreated = {
    type: 'ServiceCreated',
    data: { serviceId, name: input.name, gates: input.gates, at: now.toISOString() },
  }
  const streamId = serviceStream(serviceId)
  try {
    const result = await events.append(streamId, [event], { expectedVersion: 'no-stream' })
    return { serviceId, ...result }
  } catch (error) {
    if (isEskitError(error, 'CONCURRENCY')) {
      throw new RequestFailure(409, 'CONCURRENCY', `service "${serviceId}" already exists`, {
        streamId,
        expectedVersion: 'no-stream',
      })
    }
    throw error
  }
}

/** Input of {@link issuePass}. */
export interface IssuePassInput {
  passId?: string | undefined
  serviceId: string
  holder: string
  /** Default: one year after issue. */
  validUntil?: string | undefined
}

/**
 * Issues a new pass of an existing service to a holder.
 *
 * @example
 * ```ts
 * const { passId } = await issuePass(events, { serviceId: 'pool', holder: 'Ada Lovelace' })
 * ```
 */
export async function issuePass(
  events: EventStore,
  input: IssuePassInput,
  now: Date = new Date(),
): Promise<CommandResult & { passId: string; validUntil: string }> {
  const service = await loadService(events, input.serviceId)
  if (service === undefined) {
    throw new RequestFailure(404, 'SERVICE_NOT_FOUND', `service "${input.serviceId}" does not exist`, {
      serviceId: input.serviceId,
    })
  }
  const passId = input.passId ?? randomUUID()
  const validUntil = input.validUntil
    ? new Date(input.validUntil).toISOString()
    : new Date(now.getTime() + 365 * 86_400_000).toISOString()
  const event: PassIssued = {
    type: 'PassIssued',
    data: { passId, serviceId: input.serviceId, holder: input.holder, validUntil, at: now.toISOString() },
  }
  const streamId = passStream(passId)
  try {
    const result = await events.append(streamId, [event], { expectedVersion: 'no-stream' })
    return { passId, validUntil, ...result }
  } catch (error) {
    if (isEskitError(error, 'CONCURRENCY')) {
      throw new RequestFailure(409, 'CONCURRENCY', `pass "${passId}" already exists`, {
        streamId,
        expectedVersion: 'no-stream',
      })
    }
    throw error
  }
}

function passNotFound(passId: string): RequestFailure {
  return new RequestFailure(404, 'PASS_NOT_FOUND', `pass "${passId}" does not exist`, { passId })
}

async function appendToPass(
  events: EventStore,
  passId: string,
  pass: PassState,
  expectedVersion: number | undefined,
  event: YoyoEvent,
): Promise<CommandResult> {
  const streamId = passStream(passId)
  if (expectedVersion !== undefined && expectedVersion !== pass.version) {
    throw conflict(streamId, expectedVersion, pass.version)
  }
  try {
    return await events.append(streamId, [event], { expectedVersion: pass.version })
  } catch (error) {
    if (isEskitError(error, 'CONCURRENCY') && expectedVersion !== undefined) {
      const actual = error.details.actual
      throw conflict(streamId, expectedVersion, typeof actual === 'number' ? actual : null)
    }
    throw error
  }
}

/** Input of {@link revokePass}. */
export interface RevokePassInput {
  reason: string
  expectedVersion?: number | undefined
}

/**
 * Revokes a pass; later scans are denied. Revoking twice is a `409 ALREADY_REVOKED`.
 *
 * @example
 * ```ts
 * await revokePass(events, 'p-1', { reason: 'reported lost', expectedVersion: 1 })
 * ```
 */
export async function revokePass(
  events: EventStore,
  passId: string,
  input: RevokePassInput,
  now: Date = new Date(),
): Promise<CommandResult> {
  return withRetry(input.expectedVersion, async () => {
    const pass = await loadPass(events, passId)
    if (pass === undefined) throw passNotFound(passId)
    if (pass.revoked) {
      throw new RequestFailure(409, 'ALREADY_REVOKED', `pass "${passId}" is already revoked`, {
        passId,
        streamVersion: pass.version,
      })
    }
    const event: PassRevoked = {
      type: 'PassRevoked',
      data: { passId, serviceId: pass.serviceId, reason: input.reason, at: now.toISOString() },
    }
    return appendToPass(events, passId, pass, input.expectedVersion, event)
  })
}

/** Input of {@link scanPass}. */
export interface ScanPassInput {
  gate: string
  /** When the gate read the pass; default now. */
  at?: string | undefined
  expectedVersion?: number | undefined
}

/**
 * Scans a pass at a gate of its service. The decision (accepted, or denied because the pass is
 * revoked or expired) is recorded as a `PassScanned` event either way; a gate the service does not
 * have is refused with `422 UNKNOWN_GATE` and records nothing.
 *
 * @example
 * ```ts
 * const { result, reason } = await scanPass(events, 'p-1', { gate: 'north' })
 * ```
 */
export async function scanPass(
  events: EventStore,
  passId: string,
  input: ScanPassInput,
  now: Date = new Date(),
): Promise<CommandResult & { result: 'accepted' | 'denied'; reason?: DenialReason }> {
  return withRetry(input.expectedVersion, async () => {
    const pass = await loadPass(events, passId)
    if (pass === undefined) throw passNotFound(passId)
    const service = await loadService(events, pass.serviceId)
    if (service === undefined || !service.gates.includes(input.gate)) {
      throw new RequestFailure(
        422,
        'UNKNOWN_GATE',
        `service "${pass.serviceId}" has no gate "${input.gate}"; its gates: ${service?.gates.join(', ') ?? 'none'}`,
        { serviceId: pass.serviceId, gate: input.gate, gates: service?.gates ?? [] },
      )
    }
    const at = input.at ? new Date(input.at).toISOString() : now.toISOString()
    const reason: DenialReason | undefined = pass.revoked
      ? 'revoked'
      : at > pass.validUntil
        ? 'expired'
        : undefined
    const result = reason === undefined ? 'accepted' : 'denied'
    const data: PassScanned['data'] = { passId, serviceId: pass.serviceId, gate: input.gate, at, result }
    if (reason !== undefined) data.reason = reason
    const appended = await appendToPass(events, passId, pass, input.expectedVersion, {
      type: 'PassScanned',
      data,
    })
    return reason === undefined ? { ...appended, result } : { ...appended, result, reason }
  })
}

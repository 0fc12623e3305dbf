import { type EventStore, isEskitError } from '@eskit/core'
import {
  type DenialReason,
  type PassScanned,
  passStream,
  type ServiceCreated,
  serviceStream,
  type YoyoEvent,
} from './events.ts'

/** Options of {@link seed}. */
export interface SeedOptions {
  /** How many passes to issue (each with its scans and, sometimes, a revocation). */
  passes: number
  /** PRNG seed: the same seed and `now` give the same data set. Default 1. */
  seed?: number
  /** The data set's "today"; events are spread over the 60 days before. Default now. */
  now?: Date
  /** Called after each pass with the number of passes written so far. */
  onProgress?: (done: number, total: number) => void
}

/** What {@link seed} wrote. */
export interface SeedReport {
  services: number
  passes: number
  events: number
  /** The log position of the last event written (0 when nothing was). */
  position: number
}

const SERVICES: ReadonlyArray<{ id: string; name: string; gates: string[] }> = [
  { id: 'city-pool', name: 'City Pool', gates: ['north', 'south'] },
  { id: 'metro-gym', name: 'Metro Gym', gates: ['main', 'garage', 'rooftop'] },
  { id: 'museum-quarter', name: 'Museum Quarter', gates: ['east-hall', 'west-hall', 'garden'] },
  { id: 'harbour-ferry', name: 'Harbour Ferry', gates: ['pier-1', 'pier-2', 'pier-3', 'pier-4'] },
  { id: 'ski-lifts', name: 'Valley Ski Lifts', gates: ['valley', 'summit'] },
  { id: 'coworking', name: 'Canal Coworking', gates: ['lobby', 'bikes'] },
  { id: 'zoo', name: 'Riverside Zoo', gates: ['main', 'aquarium'] },
  { id: 'climbing', name: 'Boulder Hall', gates: ['entrance'] },
]

const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Edsger',
  'Barbara',
  'Donald',
  'Margaret',
  'Ken',
  'Radia',
  'Linus',
  'Frances',
  'John',
  'Hedy',
  'Tim',
  'Katherine',
  'Dennis',
]
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Hamilton',
  'Thompson',
  'Perlman',
  'Torvalds',
  'Allen',
  'Backus',
  'Lamarr',
  'Berners-Lee',
  'Johnson',
  'Ritchie',
]

const DAY = 86_400_000

// mulberry32: tiny, fast and reproducible; this is test data, not cryptography.
function random(seedValue: number): () => number {
  let state = seedValue >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/**
 * Writes a realistic data set to the log: a few services, `passes` passes issued over the last 60
 * days, each scanned 0–8 times at its service's gates, about 4 % revoked (later scans denied) and
 * some expired. One append per stream, with `expectedVersion: 'no-stream'`: services that already
 * exist are kept, and running it again adds new passes.
 *
 * @example
 * ```ts
 * const report = await seed(events, { passes: 1000, onProgress: (done, total) => bar.update(done) })
 * ```
 */
export async function seed(events: EventStore, options: SeedOptions): Promise<SeedReport> {
  const total = options.passes
  const rnd = random(options.seed ?? 1)
  const now = (options.now ?? new Date()).getTime()
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T
  const serviceCount = Math.min(SERVICES.length, Math.max(3, Math.ceil(total / 400)))
  const services = SERVICES.slice(0, serviceCount)
  const report: SeedReport = { services: 0, passes: 0, events: 0, position: 0 }

  for (const service of services) {
    const event: ServiceCreated = {
      type: 'ServiceCreated',
      data: {
        serviceId: service.id,
        name: service.name,
        gates: service.gates,
        at: new Date(now - 90 * DAY).toISOString(),
      },
    }
    try {
      const result = await events.append(serviceStream(service.id), [event], { expectedVersion: 'no-stream' })
      report.services++
      report.events++
      report.position = result.position
    } catch (error) {
      if (!isEskitError(error, 'CONCURRENCY')) throw error
    }
  }

  // The log's head at the start tags this run's pass ids: a second run adds passes, never collides.
  const tag = (await events.head()).toString(36)
  for (let i = 0; i < total; i++) {
    const service = pick(services)
    const passId = `p-${tag}-${String(i + 1).padStart(6, '0')}`
    const issuedAt = now - Math.floor(rnd() * 60 * DAY)
    const validUntil = issuedAt + (rnd() < 0.08 ? Math.floor(rnd() * 20 + 1) * DAY : 365 * DAY)
    const revokedAt = rnd() < 0.04 ? issuedAt + Math.floor(rnd() * (now - issuedAt)) : undefined
    const stream: YoyoEvent[] = [
      {
        type: 'PassIssued',
        data: {
          passId,
          serviceId: service.id,
          holder: `${pick(FIRST)} ${pick(LAST)}`,
          validUntil: new Date(validUntil).toISOString(),
          at: new Date(issuedAt).toISOString(),
        },
      },
    ]
    const scanTimes = Array.from(
      { length: Math.floor(rnd() * 9) },
      () => issuedAt + Math.floor(rnd() * (now - issuedAt)),
    )
    const moments = [...scanTimes.map((at) => ({ at, revoke: false }))]
    if (revokedAt !== undefined) moments.push({ at: revokedAt, revoke: true })
    moments.sort((a, b) => a.at - b.at)
    let revoked = false
    for (const moment of moments) {
      const at = new Date(moment.at).toISOString()
      if (moment.revoke) {
        revoked = true
        stream.push({
          type: 'PassRevoked',
          data: { passId, serviceId: service.id, reason: 'reported lost', at },
        })
        continue
      }
      const reason: DenialReason | undefined = revoked
        ? 'revoked'
        : moment.at > validUntil
          ? 'expired'
          : undefined
      const data: PassScanned['data'] = {
        passId,
        serviceId: service.id,
        gate: pick(service.gates),
        at,
        result: reason === undefined ? 'accepted' : 'denied',
      }
      if (reason !== undefined) data.reason = reason
      stream.push({ type: 'PassScanned', data })
    }
    const result = await events.append(passStream(passId), stream, { expectedVersion: 'no-stream' })
    report.passes++
    report.events += stream.length
    report.position = result.position
    options.onProgress?.(i + 1, total)
  }
  return report
}

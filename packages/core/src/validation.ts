import { EskitError } from './eskit-error.js'
import type { NewEvent } from './event.js'

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

/**
 * Throws `INVALID_NAME` unless `name` is 1–128 characters of `A-Z a-z 0-9 . _ -` and does not
 * start with `.` (behaviour 9): a name is a file name, so `../x`, `a/b` and `` never reach the disk.
 *
 * @example
 * ```ts
 * assertProjectionName('passes.pass_view') // ok
 * assertProjectionName('../etc/passwd')    // throws EskitError INVALID_NAME
 * ```
 */
export function assertProjectionName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 140)) : typeof name
    throw new EskitError(
      'INVALID_NAME',
      `invalid projection name ${shown}: use 1-128 characters of A-Z a-z 0-9 . _ - not starting with "."`,
      { details: { name } },
    )
  }
}

/**
 * True when `name` is a valid projection name (see {@link assertProjectionName}).
 *
 * @example
 * ```ts
 * isValidProjectionName('a/b') // false
 * ```
 */
export function isValidProjectionName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name)
}

/**
 * Throws `INVALID_EVENT` unless `streamId` is a non-empty string of at most 1024 characters.
 *
 * @example
 * ```ts
 * assertStreamId('pass-1')
 * ```
 */
export function assertStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > 1024) {
    throw new EskitError('INVALID_EVENT', 'stream id must be a non-empty string of at most 1024 characters', {
      details: { streamId },
    })
  }
}

/**
 * Validates events before they are appended and returns their JSON text (so stores serialise
 * once). `type` must be a non-empty string (≤ 256 chars); `data` and `metadata` must survive
 * JSON: functions, symbols, BigInt, cycles, non-finite numbers and `undefined` at top level are
 * `INVALID_EVENT`. Nothing is appended when any event is invalid.
 *
 * @example
 * ```ts
 * const encoded = encodeEvents([{ type: 'PassIssued', data: { holder: 'Ada' } }])
 * encoded[0].data // '{"holder":"Ada"}'
 * ```
 */
export function encodeEvents(events: unknown): EncodedEvent[] {
  if (!Array.isArray(events) || events.length === 0) {
    throw new EskitError('INVALID_EVENT', 'append needs a non-empty array of events')
  }
  return events.map((event, index) => encodeEvent(event, index))
}

/**
 * An event checked and serialised by {@link encodeEvents}.
 *
 * @example
 * ```ts
 * const [first] = encodeEvents([{ type: 'PassIssued', data: { holder: 'Ada' } }])
 * first?.metadata // null
 * ```
 */
export interface EncodedEvent {
  type: string
  data: string
  metadata: string | null
  event: NewEvent
}

function encodeEvent(event: unknown, index: number): EncodedEvent {
  const fail = (reason: string, cause?: unknown): never => {
    throw new EskitError('INVALID_EVENT', `event ${index}: ${reason}`, {
      cause,
      details: { index },
    })
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) fail('must be an object')
  const { type, data, metadata } = event as Record<string, unknown>
  if (typeof type !== 'string' || type.length === 0 || type.length > 256) {
    fail('type must be a non-empty string of at most 256 characters')
  }
  if (data === undefined) fail('data is required (use null for none)')
  const encodedData = toJson(data, 'data', fail)
  let encodedMetadata: string | null = null
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      fail('metadata must be a plain object')
    }
    encodedMetadata = toJson(metadata, 'metadata', fail)
  }
  return { type: type as string, data: encodedData, metadata: encodedMetadata, event: event as NewEvent }
}

function toJson(value: unknown, field: string, fail: (reason: string, cause?: unknown) => never): string {
  const problem = findUnserialisable(value, new Set())
  if (problem) fail(`${field}${problem}`)
  try {
    return JSON.stringify(value)
  } catch (error) {
    return fail(`${field} is not JSON-serialisable`, error)
  }
}

// JSON.stringify silently drops functions/undefined and turns NaN into null: data would change
// on the way through the log, so such values are refused instead.
function findUnserialisable(value: unknown, seen: Set<object>, path = ''): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null
    case 'number':
      return Number.isFinite(value) ? null : `${path} is not a finite number`
    case 'bigint':
      return `${path} is a BigInt`
    case 'function':
      return `${path} is a function`
    case 'symbol':
      return `${path} is a symbol`
    case 'undefined':
      return `${path} is undefined`
  }
  if (value === null) return null
  const object = value as object
  if (seen.has(object)) return `${path} is a circular reference`
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return null // Date and friends
  seen.add(object)
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      const found = findUnserialisable(object[i], seen, `${path}[${i}]`)
      if (found) return found
    }
  } else {
    const proto = Object.getPrototypeOf(object)
    if (proto !== Object.prototype && proto !== null) return `${path} is not a plain object`
    for (const [key, item] of Object.entries(object)) {
      // An undefined property is left out, exactly as JSON does; it is not data that changes.
      if (item === undefined) continue
      const found = findUnserialisable(item, seen, `${path}.${key}`)
      if (found) return found
    }
  }
  seen.delete(object)
  return null
}

import { CALL, GET, RecordedCallback, ROOT, recordedStep, type Step } from './query-recorder.js'

// A recording (see query-recorder.ts) is read as a sequence of small integers, its skeleton:
// property names, argument counts and types, object keys, array lengths, callbacks. Every string,
// number, bigint and object argument is taken out as an "occurrence" (in reading order), and the
// names (property names, object keys, prototypes of opaque values) go to a list of their own,
// compared by identity. Two recordings with equal tokens and names differ at most in their
// occurrences; which of those are parameter values is learned (shape-learning.ts).
export const DB = 1
export const ROOT_TOKEN = 2
export const GET_TOKEN = 3
export const CALL_TOKEN = 4
export const REC = 5
export const CALLBACK = 6
export const SKIPPED = 7
export const STRING = 8
export const NUMBER = 9
export const BIGINT = 10
export const TRUE = 11
export const FALSE = 12
export const NULL = 13
export const UNDEFINED = 14
export const ARRAY = 15
export const OBJECT = 16
export const END = 17
export const OPAQUE = 18
export const KEY = 19
/** Token ids from here on are free for the cache's own use (interned structural values). */
export const FIRST_FREE_TOKEN = 32

/** Where an occurrence sits in the recording: `container[key]`. */
export interface Place {
  readonly container: object
  readonly key: string | number
}

/** What reading one recording gave. The arrays are reused between readings and only grow. */
export interface Reading {
  /** tokens[0 .. size) */
  tokens: Int32Array
  size: number
  /** values[0 .. count): the occurrences. */
  readonly values: unknown[]
  count: number
  /** names[0 .. nameCount): property names, object keys and prototypes. */
  readonly names: unknown[]
  nameCount: number
  /** Only while learning: where each occurrence sits, and where its contents end. */
  readonly places: Place[] | undefined
  readonly ends: number[] | undefined
  /** Tells this reading's callback roots from those of earlier readings. */
  stamp: number
  nextRoot: number
}

let stamps = 0

function newReading(learning: boolean): Reading {
  return {
    tokens: new Int32Array(256),
    size: 0,
    values: [],
    count: 0,
    names: [],
    nameCount: 0,
    places: learning ? [] : undefined,
    ends: learning ? [] : undefined,
    stamp: 0,
    nextRoot: 0,
  }
}

// Lookups read into this one reading, again and again (a lookup is not re-entered while it uses
// it: learning reads into readings of its own).
const shared = newReading(false)

/**
 * Reads `step` into the shared reading (valid until the next call), or undefined when the
 * recording is not a tree the cache can describe (a callback argument used outside its
 * callback, a `sql` template inside, a value factory).
 */
export function readForLookup(step: Step): Reading | undefined {
  shared.size = 0
  shared.count = 0
  shared.nameCount = 0
  shared.nextRoot = 0
  shared.stamp = ++stamps
  return readStep(step, shared) ? shared : undefined
}

/** Reads `step` into a reading of its own that also records where each occurrence sits. */
export function readForLearning(step: Step): Reading | undefined {
  const reading = newReading(true)
  reading.stamp = ++stamps
  return readStep(step, reading) ? reading : undefined
}

/** The tokens read, as their own array (to keep). */
export function tokensOf(reading: Reading): Int32Array {
  return reading.tokens.slice(0, reading.size)
}

/** The occurrences read, as their own array. */
export function valuesOf(reading: Reading): unknown[] {
  return reading.values.slice(0, reading.count)
}

/** The names read, as their own array. */
export function namesOf(reading: Reading): unknown[] {
  return reading.names.slice(0, reading.nameCount)
}

function tok(reading: Reading, token: number): void {
  if (reading.size === reading.tokens.length) {
    const grown = new Int32Array(reading.tokens.length * 2)
    grown.set(reading.tokens)
    reading.tokens = grown
  }
  reading.tokens[reading.size++] = token
}

function readStep(step: Step, reading: Reading): boolean {
  switch (step.kind) {
    case ROOT:
      if (step.isDb) {
        tok(reading, DB)
        return true
      }
      // A callback's argument used outside that callback (or before it): not a tree.
      if (step.stamp !== reading.stamp) return false
      tok(reading, ROOT_TOKEN)
      tok(reading, step.number)
      return true
    case GET:
      if (!readStep(step.parent as Step, reading)) return false
      tok(reading, GET_TOKEN)
      reading.names[reading.nameCount++] = step.name
      return true
    case CALL: {
      if (!readStep(step.parent as Step, reading)) return false
      const { args } = step
      tok(reading, CALL_TOKEN)
      tok(reading, args.length)
      for (let i = 0; i < args.length; i++) if (!readValue(args, i, args[i], reading)) return false
      return true
    }
  }
}

function occurrence(container: object, key: string | number, value: unknown, reading: Reading): number {
  const index = reading.count++
  reading.values[index] = value
  if (reading.places !== undefined) {
    reading.places.push({ container, key })
    reading.ends?.push(index + 1)
  }
  return index
}

function readValue(container: object, key: string | number, value: unknown, reading: Reading): boolean {
  switch (typeof value) {
    case 'string':
      occurrence(container, key, value, reading)
      tok(reading, STRING)
      return true
    case 'number':
      occurrence(container, key, value, reading)
      tok(reading, NUMBER)
      return true
    case 'bigint':
      occurrence(container, key, value, reading)
      tok(reading, BIGINT)
      return true
    case 'boolean':
      tok(reading, value ? TRUE : FALSE)
      return true
    case 'undefined':
      tok(reading, UNDEFINED)
      return true
    case 'function': {
      const step = recordedStep(value)
      if (step === undefined) return false // a value factory inside an object: Kysely calls it
      tok(reading, REC)
      return readStep(step, reading)
    }
    case 'object':
      break
    default:
      return false
  }
  if (value === null) {
    tok(reading, NULL)
    return true
  }
  const step = recordedStep(value)
  if (step !== undefined) {
    tok(reading, REC)
    return readStep(step, reading)
  }
  if (value instanceof RecordedCallback) {
    if (!value.ran) {
      tok(reading, SKIPPED)
      return true
    }
    value.root.stamp = reading.stamp
    value.root.number = reading.nextRoot++
    tok(reading, CALLBACK)
    return readValue(value, 'result', value.result, reading)
  }
  if (Array.isArray(value)) {
    const index = occurrence(container, key, value, reading)
    tok(reading, ARRAY)
    tok(reading, value.length)
    for (let i = 0; i < value.length; i++) if (!readValue(value, i, value[i], reading)) return false
    if (reading.ends !== undefined) reading.ends[index] = reading.count
    return true
  }
  const prototype = Object.getPrototypeOf(value)
  if (prototype === Object.prototype || prototype === null) {
    const index = occurrence(container, key, value, reading)
    tok(reading, OBJECT)
    const object = value as Record<string, unknown>
    for (const name in object) {
      tok(reading, KEY)
      reading.names[reading.nameCount++] = name
      if (!readValue(object, name, object[name], reading)) return false
    }
    tok(reading, END)
    if (reading.ends !== undefined) reading.ends[index] = reading.count
    return true
  }
  // A real Kysely expression (a `sql` template, an expression built elsewhere): its own tree
  // is not read here, so the recording is built each time.
  if (typeof (value as { toOperationNode?: unknown }).toOperationNode === 'function') return false
  // A Date, a Buffer, a class instance: a parameter value if Kysely keeps it as one (learned).
  occurrence(container, key, value, reading)
  tok(reading, OPAQUE)
  reading.names[reading.nameCount++] = prototype
  return true
}

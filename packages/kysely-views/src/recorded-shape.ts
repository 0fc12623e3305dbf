import { type RootOperationNode, SqliteQueryCompiler } from 'kysely'
import { compileOnlyDb } from './compile-only-db.js'
import { readNodeShape, sameNodeStructure } from './node-shape.js'
import {
  CALL as CALL_STEP,
  GET as GET_STEP,
  materialize,
  RecordedCallback,
  ROOT as ROOT_STEP,
  recordedStep,
  replay,
  type Step,
} from './query-recorder.js'
import { toSqliteValue } from './sqlite-connection.js'
import { compileViewQuery, isViewQuery } from './view-query.js'

// A recorded query (see query-recorder.ts) is read as a sequence of small integers: its
// skeleton (property names, argument counts and types, object keys, array lengths, callbacks),
// with every string, number, bigint and object argument taken out as an "occurrence".
//
// The first recording of a skeleton is built with Kysely to learn which occurrences are
// parameter values (replaced one at a time by a marker of the same type, the node tree keeps its
// structure and holds the marker as a parameter) and which are structure (table and column
// names, operators, raw SQL: replacing them changes the tree or fails). A skeleton's entry keeps
// that classification; under it, one shape per distinct set of structural occurrences holds the
// compiled SQL and which occurrence binds to each `?`. Every learned shape is checked against
// the query's own compile (same SQL, same parameters) before it is used.
const DB = 1
const ROOT = 2
const GET = 3
const CALL = 4
const REC = 5
const CALLBACK = 6
const SKIPPED = 7
const STRING = 8
const NUMBER = 9
const BIGINT = 10
const TRUE = 11
const FALSE = 12
const NULL = 13
const UNDEFINED = 14
const ARRAY = 15
const OBJECT = 16
const END = 17
const OPAQUE = 18
const KEY = 19
const FIRST_INTERNED = 32

/** What an occurrence turned out to be. */
const STRUCTURE = 0
const VALUE = 1
/** Inside an object or array that is one parameter value (a JSON column's payload). */
const INSIDE_VALUE = 2
/** A plain object or array whose keys and items are read on their own (a row in `values`). */
const CONTAINER = 3

const MAX_SKELETONS = 1000
const MAX_SHAPES_PER_SKELETON = 100
const MAX_INTERNED = 100_000
// Learning builds the query once per argument; past this many (a multi-row insert, say) the
// query is built per event as before rather than paying that at every new row count.
const MAX_LEARNED_OCCURRENCES = 64

interface Reading {
  /** tokens[0 .. size) and values[0 .. count): the arrays are reused and only grow. */
  tokens: Int32Array
  size: number
  readonly values: unknown[]
  count: number
  /** names[0 .. nameCount): property names, object keys and prototypes, compared by identity. */
  readonly names: unknown[]
  nameCount: number
  /** Only while learning: where each occurrence sits, and where its contents end. */
  readonly places: { container: object; key: string | number }[] | undefined
  readonly ends: number[] | undefined
  stamp: number
  nextRoot: number
}

interface Shape {
  readonly sql: string
  /** Per `?`: the occurrence index, or -1 - i for constants[i]. */
  readonly slots: Int32Array
  readonly constants: readonly unknown[]
}

interface ShapeEntry {
  readonly tokens: Int32Array
  /** The structural occurrences themselves: a query with the very same ones needs no interning. */
  readonly structure: readonly unknown[]
  /** Undefined: this set of structural occurrences does not compile through the cache. */
  readonly shape: Shape | undefined
}

interface SkeletonEntry {
  readonly tokens: Int32Array
  readonly names: readonly unknown[]
  /** Undefined: the skeleton cannot be cached (learned once, then always built). */
  readonly kinds: Int8Array | undefined
  readonly shapes: Map<number, ShapeEntry[]>
  shapeCount: number
  /** The entry the last query of this skeleton used. */
  last: ShapeEntry | undefined
}

const interned = new Map<unknown, number>()
const skeletons = new Map<number, SkeletonEntry[]>()
let skeletonCount = 0
let stamps = 0
const compiler = new SqliteQueryCompiler()

/** SQL with `?` placeholders and its parameter values, already as SQLite binds them. */
export interface CompiledSql {
  readonly sql: string
  readonly values: readonly unknown[]
}

/** What compiling a recording gives: SQL and parameters, or the real object it built. */
export type RecordedResult = { readonly compiled: CompiledSql } | { readonly built: unknown }

/**
 * Compiles the query a recording stands for. A structure seen before costs a read of the
 * recording and two lookups; a new one is built with Kysely (and learned when it can be). A
 * recording that does not build a query (e.g. `.execute()`, a promise) comes back `built`, for
 * the caller to report as it reports any other result.
 */
export function compileRecorded(step: Step): RecordedResult {
  // Starting over only here, before anything is read: ids interned for this query stay valid.
  if (skeletonCount >= MAX_SKELETONS || interned.size >= MAX_INTERNED) clearRecordedShapes()
  const reading = read(step, false)
  if (reading === undefined) return built(materialize(step))
  const hash = hashOf(reading.tokens, reading.size)
  let skeleton = findSkeleton(skeletons.get(hash), reading)
  if (skeleton === undefined) {
    const tokens = tokensOf(reading)
    const names = reading.names.slice(0, reading.nameCount)
    const values = valuesOf(reading)
    const learned = learn(step)
    if ('built' in learned) return learned
    skeleton = storeSkeleton(hash, tokens, names, learned.kinds)
    if (learned.kinds === undefined) return built(learned.query)
    storeShape(skeleton, values, learned.kinds, learned.shape)
    return built(learned.query)
  }
  const { kinds } = skeleton
  if (kinds === undefined) return built(materialize(step))
  let entry = skeleton.last
  if (entry === undefined || !sameStructuralValues(entry.structure, reading.values, kinds)) {
    const structural = structuralTokens(reading.values, kinds)
    entry = find(skeleton.shapes.get(hashOf(structural, structural.length)), structural, structural.length)
    if (entry !== undefined) skeleton.last = entry
  }
  if (entry === undefined) {
    const values = valuesOf(reading)
    const learned = learn(step)
    if ('built' in learned) return learned
    const same =
      learned.kinds !== undefined &&
      learned.kinds.length === kinds.length &&
      learned.kinds.every((kind, i) => kind === kinds[i])
    // A classification that differs from the skeleton's would make its lookups ambiguous.
    storeShape(skeleton, values, kinds, same ? learned.shape : undefined)
    return built(learned.query)
  }
  const { shape } = entry
  if (shape === undefined) return built(materialize(step))
  return { compiled: bind(shape, reading.values) }
}

/** The number of skeletons cached (for tests). */
export function cachedSkeletonCount(): number {
  return skeletonCount
}

/** Empties the cache (for tests). */
export function clearRecordedShapes(): void {
  skeletons.clear()
  interned.clear()
  skeletonCount = 0
}

function built(value: unknown): RecordedResult {
  return { built: value }
}

function bind(shape: Shape, values: readonly unknown[]): CompiledSql {
  const { slots, constants } = shape
  const bound = new Array<unknown>(slots.length)
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i] as number
    bound[i] = toSqliteValue(slot >= 0 ? values[slot] : constants[-1 - slot])
  }
  return { sql: shape.sql, values: bound }
}

/** The parameters a shape gives, as Kysely would pass them (to check a shape against Kysely). */
function parametersOf(shape: Shape, values: readonly unknown[]): unknown[] {
  const { slots, constants } = shape
  return Array.from(slots, (slot) => (slot >= 0 ? values[slot] : constants[-1 - slot]))
}

function sameStructuralValues(
  structure: readonly unknown[],
  values: readonly unknown[],
  kinds: Int8Array,
): boolean {
  let k = 0
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] === STRUCTURE && structure[k++] !== values[i]) return false
  }
  return true
}

function structuralTokens(values: readonly unknown[], kinds: Int8Array): number[] {
  const tokens: number[] = []
  for (let i = 0; i < kinds.length; i++) if (kinds[i] === STRUCTURE) tokens.push(intern(values[i]))
  return tokens
}

function intern(value: unknown): number {
  let id = interned.get(value)
  if (id === undefined) {
    id = interned.size + FIRST_INTERNED
    interned.set(value, id)
  }
  return id
}

function hashOf(tokens: readonly number[] | Int32Array, size: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < size; i++) hash = Math.imul(hash ^ (tokens[i] as number), 0x01000193)
  return hash
}

function findSkeleton(
  bucket: readonly SkeletonEntry[] | undefined,
  reading: Reading,
): SkeletonEntry | undefined {
  if (bucket === undefined) return undefined
  const { tokens, size, names, nameCount } = reading
  search: for (const entry of bucket) {
    const known = entry.tokens
    if (known.length !== size || entry.names.length !== nameCount) continue
    for (let i = 0; i < size; i++) if (known[i] !== tokens[i]) continue search
    const knownNames = entry.names
    for (let i = 0; i < nameCount; i++) if (knownNames[i] !== names[i]) continue search
    return entry
  }
  return undefined
}

function find<E extends { readonly tokens: Int32Array }>(
  bucket: readonly E[] | undefined,
  tokens: readonly number[] | Int32Array,
  size: number,
): E | undefined {
  if (bucket === undefined) return undefined
  search: for (const entry of bucket) {
    const known = entry.tokens
    if (known.length !== size) continue
    for (let i = 0; i < known.length; i++) if (known[i] !== tokens[i]) continue search
    return entry
  }
  return undefined
}

function storeSkeleton(
  hash: number,
  tokens: Int32Array,
  names: readonly unknown[],
  kinds: Int8Array | undefined,
): SkeletonEntry {
  const entry: SkeletonEntry = {
    tokens,
    names,
    kinds,
    shapes: new Map(),
    shapeCount: 0,
    last: undefined,
  }
  const bucket = skeletons.get(hash)
  if (bucket === undefined) skeletons.set(hash, [entry])
  else bucket.push(entry)
  skeletonCount++
  return entry
}

function storeShape(
  skeleton: SkeletonEntry,
  values: readonly unknown[],
  kinds: Int8Array,
  shape: Shape | undefined,
): void {
  if (skeleton.shapeCount >= MAX_SHAPES_PER_SKELETON) {
    skeleton.shapes.clear()
    skeleton.shapeCount = 0
    skeleton.last = undefined
  }
  const tokens = structuralTokens(values, kinds)
  const structure = values.filter((_, i) => kinds[i] === STRUCTURE)
  const entry: ShapeEntry = { tokens: Int32Array.from(tokens), structure, shape }
  const hash = hashOf(tokens, tokens.length)
  const bucket = skeleton.shapes.get(hash)
  if (bucket === undefined) skeleton.shapes.set(hash, [entry])
  else bucket.push(entry)
  skeleton.shapeCount++
  skeleton.last = entry
}

// ---- reading a recording ----

// The hit path reads into these arrays, again and again (compileRecorded is not re-entered
// while it uses them: learning reads into arrays of its own).
const hitReading: Reading = {
  tokens: new Int32Array(256),
  size: 0,
  values: [],
  count: 0,
  names: [],
  nameCount: 0,
  places: undefined,
  ends: undefined,
  stamp: 0,
  nextRoot: 0,
}

function read(step: Step, learning: boolean): Reading | undefined {
  let reading: Reading
  if (learning) {
    reading = {
      tokens: new Int32Array(256),
      size: 0,
      values: [],
      count: 0,
      names: [],
      nameCount: 0,
      places: [],
      ends: [],
      stamp: ++stamps,
      nextRoot: 0,
    }
  } else {
    reading = hitReading
    reading.size = 0
    reading.count = 0
    reading.nameCount = 0
    reading.stamp = ++stamps
    reading.nextRoot = 0
  }
  return readStep(step, reading) ? reading : undefined
}

function tok(reading: Reading, first: number, second?: number): void {
  const needed = reading.size + (second === undefined ? 1 : 2)
  if (needed > reading.tokens.length) {
    const grown = new Int32Array(reading.tokens.length * 2)
    grown.set(reading.tokens)
    reading.tokens = grown
  }
  reading.tokens[reading.size++] = first
  if (second !== undefined) reading.tokens[reading.size++] = second
}

/** The tokens read, as their own array (to keep in the cache). */
function tokensOf(reading: Reading): Int32Array {
  return reading.tokens.slice(0, reading.size)
}

/** The values read, as their own array. */
function valuesOf(reading: Reading): unknown[] {
  return reading.values.slice(0, reading.count)
}

function readStep(step: Step, reading: Reading): boolean {
  switch (step.kind) {
    case ROOT_STEP:
      if (step.isDb) {
        tok(reading, DB)
        return true
      }
      // A callback's argument used outside that callback (or before it): not a tree.
      if (step.stamp !== reading.stamp) return false
      tok(reading, ROOT, step.number)
      return true
    case GET_STEP:
      if (!readStep(step.parent as Step, reading)) return false
      tok(reading, GET)
      reading.names[reading.nameCount++] = step.name
      return true
    case CALL_STEP: {
      if (!readStep(step.parent as Step, reading)) return false
      const { args } = step
      tok(reading, CALL, args.length)
      for (let i = 0; i < args.length; i++) if (!readValue(args, i, args[i], reading)) return false
      return true
    }
  }
}

function occurrence(container: object, key: string | number, value: unknown, reading: Reading): number {
  const index = reading.count++
  reading.values[index] = value
  reading.places?.push({ container, key })
  reading.ends?.push(index + 1)
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
    tok(reading, ARRAY, value.length)
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

// ---- learning a skeleton's classification and a shape ----

type Learned =
  | { readonly built: unknown }
  | { readonly query: unknown; readonly kinds: Int8Array; readonly shape: Shape | undefined }
  | { readonly query: unknown; readonly kinds: undefined; readonly shape: undefined }

function learn(step: Step): Learned {
  const db = compileOnlyDb()
  const query = replay(step, db)
  const toNode = (query as { toOperationNode?: unknown } | null)?.toOperationNode
  if (!isViewQuery(query) || typeof toNode !== 'function') return { built: query }
  const uncacheable = { query, kinds: undefined, shape: undefined } as const
  const reading = read(step, true)
  const base = readNodeShape(toNode.call(query))
  if (reading === undefined || base === undefined) return uncacheable
  if (reading.count > MAX_LEARNED_OCCURRENCES) return uncacheable
  const places = reading.places ?? []
  const ends = reading.ends ?? []
  const { values } = reading
  const kinds = new Int8Array(values.length)
  const markers = values.map(markerFor)

  const rebuilt = (swap: ReadonlySet<number>) => {
    const at = new Map<object, Map<string | number, number>>()
    for (const index of swap) {
      const place = places[index] as { container: object; key: string | number }
      let keys = at.get(place.container)
      if (keys === undefined) {
        keys = new Map()
        at.set(place.container, keys)
      }
      keys.set(place.key, index)
    }
    return replay(step, db, (container, key, value) => {
      const index = at.get(container)?.get(key)
      return index === undefined ? value : markers[index]
    }) as { toOperationNode(): RootOperationNode }
  }

  for (let i = 0; i < values.length; i++) {
    if (kinds[i] === INSIDE_VALUE) continue
    const value = values[i]
    if (typeof value === 'object' && value !== null) {
      if (base.values.includes(value)) {
        kinds[i] = VALUE
        for (let j = i + 1; j < (ends[i] as number); j++) kinds[j] = INSIDE_VALUE
        continue
      }
      const prototype = Object.getPrototypeOf(value)
      if (Array.isArray(value) || prototype === Object.prototype || prototype === null) {
        kinds[i] = CONTAINER
        continue
      }
      return uncacheable // a class instance Kysely did not keep as a value
    }
    try {
      const swapped = readNodeShape(rebuilt(new Set([i])).toOperationNode())
      kinds[i] =
        swapped !== undefined && sameNodeStructure(swapped, base) && swapped.values.includes(markers[i])
          ? VALUE
          : STRUCTURE
    } catch {
      kinds[i] = STRUCTURE // the marker broke the query: its content matters to Kysely
    }
  }

  const valueIndexes = new Set<number>()
  for (let i = 0; i < kinds.length; i++) if (kinds[i] === VALUE) valueIndexes.add(i)
  let marked: RootOperationNode
  try {
    marked = rebuilt(valueIndexes).toOperationNode()
  } catch {
    return { query, kinds, shape: undefined }
  }
  const markedShape = readNodeShape(marked)
  if (markedShape === undefined || !sameNodeStructure(markedShape, base))
    return { query, kinds, shape: undefined }
  const compiled = compiler.compileQuery(marked, { queryId: 'eskit-recorded' })
  const own = compileViewQuery(query as Parameters<typeof compileViewQuery>[0])
  if (compiled.sql !== own.sql || compiled.parameters.length !== own.parameters.length) {
    return { query, kinds, shape: undefined }
  }
  const markerIndex = new Map<unknown, number>()
  for (const index of valueIndexes) markerIndex.set(markers[index], index)
  const slots = new Int32Array(compiled.parameters.length)
  const constants: unknown[] = []
  compiled.parameters.forEach((parameter, i) => {
    const index = markerIndex.get(parameter)
    if (index !== undefined) slots[i] = index
    else {
      slots[i] = -1 - constants.length
      constants.push(parameter)
    }
  })
  const shape: Shape = { sql: compiled.sql, slots, constants }
  // The shape must give this very query's parameters, or it is not used.
  const check = parametersOf(shape, values)
  if (!check.every((parameter, i) => Object.is(parameter, own.parameters[i]))) {
    return { query, kinds, shape: undefined }
  }
  return { query, kinds, shape }
}

let markerCount = 0

// A marker of the same type as the value, unlike any value an application holds.
function markerFor(value: unknown): unknown {
  const n = ++markerCount
  switch (typeof value) {
    case 'string':
      return `\u0000eskit-parameter-${n}\u0000`
    case 'number':
      return -987_654_321.5 - n
    case 'bigint':
      return -(10n ** 30n) - BigInt(n)
    default:
      if (Array.isArray(value)) return []
      if (typeof value === 'object' && value !== null) return Object.create(Object.getPrototypeOf(value))
      return value
  }
}

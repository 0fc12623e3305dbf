import { type CompiledQuery, type OperationNode, type RootOperationNode, SqliteQueryCompiler } from 'kysely'
import { compileViewQuery, type ViewQuery } from './view-query.ts'

/**
 * A query's structure compiled once: its SQL and, for each `?`, which of the values collected
 * by {@link readShape} (in walk order) binds there.
 */
export interface QueryShape {
  readonly sql: string
  readonly slots: readonly number[]
}

/** A query taken apart: its structure as token ids, their hash, and its values in walk order. */
interface ShapeReading {
  readonly tokens: number[]
  readonly values: unknown[]
  hash: number
}

/** A cached shape with the token sequence that identifies it (compared in full on a hit). */
interface ShapeEntry {
  readonly tokens: Int32Array
  readonly shape: QueryShape
}

// Compiling is deterministic in the operation node tree, and only two kinds of node put a
// JavaScript value into the parameters instead of the SQL text: a ValueNode that is not
// immediate and a PrimitiveValueListNode. Everything else (identifiers, operators, raw SQL
// fragments, immediate values, list lengths, field names) is structure, so two queries with the
// same structure compile to the same SQL and differ only in their parameter values.
//
// The structure is read as a sequence of small integers (a string key would cost more to build
// and hash than the compile it saves): fixed tokens for the grammar below, and an interned id
// per distinct structural string or number.
//   value  := OBJECT (name value)* END | ARRAY length value* | VALUE | VALUE_LIST length
//           | NULL | UNDEFINED | TRUE | FALSE | string | number | bigint
const OBJECT = 1
const END = 2
const ARRAY = 3
const VALUE = 4
const VALUE_LIST = 5
const NULL = 6
const UNDEFINED = 7
const TRUE = 8
const FALSE = 9
const FIRST_INTERNED = 16

const MAX_CACHED_SHAPES = 1000
// Structural strings are nearly all names written in code; an app that puts data into raw SQL
// or literals makes new ones per event, so the table starts over (with the shapes that used it).
const MAX_INTERNED = 100_000
/** A shape found once not to round-trip through the SQLite compiler: compiled per query. */
const UNCACHEABLE: QueryShape = Object.freeze({ sql: '', slots: Object.freeze([]) })

const interned = new Map<unknown, number>()
const shapes = new Map<number, ShapeEntry[]>()
let shapeCount = 0
const compiler = new SqliteQueryCompiler()

/** What {@link compileByShape} returns: the SQL and the parameters, in `?` order. */
export interface ShapedQuery {
  readonly sql: string
  readonly parameters: readonly unknown[]
}

/**
 * Compiles `query` through the per-process shape cache: a query whose structure was seen before
 * costs a walk of its node tree and a lookup, not a compile. Queries the walk cannot take apart
 * (custom `Compilable`s, nodes holding functions or class instances as structure) compile as
 * before.
 */
export function compileByShape(query: ViewQuery): ShapedQuery {
  const toNode = (query as { toOperationNode?: unknown }).toOperationNode
  if (typeof toNode !== 'function') return compileViewQuery(query)
  const node = toNode.call(query) as OperationNode
  const reading = readShape(node)
  if (reading === undefined) return compileViewQuery(query)
  let shape = findShape(reading)
  if (shape === undefined) {
    shape = learnShape(node, query)
    storeShape(reading, shape)
  }
  if (shape === UNCACHEABLE) return compileViewQuery(query)
  const { slots } = shape
  const { values } = reading
  const parameters = new Array<unknown>(slots.length)
  for (let i = 0; i < slots.length; i++) parameters[i] = values[slots[i] as number]
  return { sql: shape.sql, parameters }
}

/** The number of shapes cached now (for tests). */
export function cachedShapeCount(): number {
  return shapeCount
}

/** Empties the shape cache (for tests). */
export function clearShapeCache(): void {
  shapes.clear()
  interned.clear()
  shapeCount = 0
}

function findShape(reading: ShapeReading): QueryShape | undefined {
  const bucket = shapes.get(reading.hash)
  if (bucket === undefined) return undefined
  const { tokens } = reading
  search: for (const entry of bucket) {
    const known = entry.tokens
    if (known.length !== tokens.length) continue
    for (let i = 0; i < known.length; i++) if (known[i] !== tokens[i]) continue search
    return entry.shape
  }
  return undefined
}

function storeShape(reading: ShapeReading, shape: QueryShape): void {
  if (shapeCount >= MAX_CACHED_SHAPES) {
    shapes.clear()
    shapeCount = 0
  }
  const entry: ShapeEntry = { tokens: Int32Array.from(reading.tokens), shape }
  const bucket = shapes.get(reading.hash)
  if (bucket === undefined) shapes.set(reading.hash, [entry])
  else bucket.push(entry)
  shapeCount++
}

/**
 * Walks `node` into the tokens of its structure and its parameter values, or undefined when the
 * tree holds something whose effect on the SQL the walk cannot encode.
 */
export function readShape(node: OperationNode): ShapeReading | undefined {
  if (interned.size >= MAX_INTERNED) clearShapeCache()
  const reading: ShapeReading = { tokens: [], values: [], hash: 0 }
  if (!walk(node, reading)) return undefined
  let hash = 0x811c9dc5
  const { tokens } = reading
  for (let i = 0; i < tokens.length; i++) hash = Math.imul(hash ^ (tokens[i] as number), 0x01000193)
  reading.hash = hash
  return reading
}

function intern(value: unknown): number {
  let id = interned.get(value)
  if (id === undefined) {
    id = interned.size + FIRST_INTERNED
    interned.set(value, id)
  }
  return id
}

function walk(value: unknown, reading: ShapeReading): boolean {
  const { tokens } = reading
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
      // A Map tells 1, 1n and '1' apart; 0 and -0 are one key, and compile alike.
      tokens.push(intern(value))
      return true
    case 'boolean':
      tokens.push(value ? TRUE : FALSE)
      return true
    case 'undefined':
      tokens.push(UNDEFINED)
      return true
    case 'object':
      break
    default:
      return false
  }
  if (value === null) {
    tokens.push(NULL)
    return true
  }
  if (Array.isArray(value)) {
    tokens.push(ARRAY, value.length)
    for (let i = 0; i < value.length; i++) if (!walk(value[i], reading)) return false
    return true
  }
  const object = value as Record<string, unknown>
  const kind = object.kind
  if (kind === 'ValueNode' && object.immediate !== true) {
    tokens.push(VALUE)
    reading.values.push(object.value)
    return true
  }
  if (kind === 'PrimitiveValueListNode') {
    const values = object.values as readonly unknown[]
    tokens.push(VALUE_LIST, values.length)
    for (let i = 0; i < values.length; i++) reading.values.push(values[i])
    return true
  }
  // Structure is made of plain (usually frozen) objects; a class instance here (a Date in an
  // immediate value, a plugin's own node) is not something the tokens can promise to encode.
  const prototype = Object.getPrototypeOf(object)
  if (prototype !== Object.prototype && prototype !== null) return false
  tokens.push(OBJECT)
  for (const name in object) {
    const field = object[name]
    // An absent field and an undefined one compile alike.
    if (field === undefined) continue
    tokens.push(intern(name))
    if (!walk(field, reading)) return false
  }
  tokens.push(END)
  return true
}

class Slot {
  readonly index: number
  constructor(index: number) {
    this.index = index
  }
}

/**
 * Compiles a copy of `node` whose parameter values are markers numbered in walk order; the
 * compiled parameters then say which value goes to which `?`. The copy must compile to the SQL
 * the query compiles to itself (a query built by another dialect's Kysely would not), or the
 * shape is not cached.
 */
function learnShape(node: OperationNode, query: ViewQuery): QueryShape {
  const counter = { next: 0 }
  const marked = markValues(node, counter) as RootOperationNode
  const compiled = compiler.compileQuery(marked, { queryId: 'eskit-shape' })
  const own: CompiledQuery = compileViewQuery(query)
  if (compiled.sql !== own.sql || compiled.parameters.length !== own.parameters.length) return UNCACHEABLE
  const slots: number[] = []
  for (const parameter of compiled.parameters) {
    if (!(parameter instanceof Slot)) return UNCACHEABLE
    slots.push(parameter.index)
  }
  return Object.freeze({ sql: compiled.sql, slots: Object.freeze(slots) })
}

// Mirrors walk(): the same fields in the same order, so marker i stands for values[i].
function markValues(value: unknown, counter: { next: number }): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map((item) => markValues(item, counter))
  const object = value as Record<string, unknown>
  const kind = object.kind
  if (kind === 'ValueNode' && object.immediate !== true) {
    return { ...object, value: new Slot(counter.next++) }
  }
  if (kind === 'PrimitiveValueListNode') {
    const values = object.values as readonly unknown[]
    return { ...object, values: values.map(() => new Slot(counter.next++)) }
  }
  const copy: Record<string, unknown> = {}
  for (const name in object) copy[name] = markValues(object[name], counter)
  return copy
}

import { type RootOperationNode, SqliteQueryCompiler } from 'kysely'
import { compileOnlyDb } from './compile-only-db.js'
import { readNodeShape, sameNodeStructure } from './node-shape.js'
import { replay, type Step } from './query-recorder.js'
import { type Place, readForLearning } from './recording-reader.js'
import { compileViewQuery, isViewQuery } from './view-query.js'

// Learning a recording's skeleton (recording-reader.ts): which of its occurrences are parameter
// values and which are structure. The query is built with Kysely, then once more per
// occurrence with that occurrence replaced by a marker of the same type: when the node tree keeps
// its structure and holds the marker as a parameter, the occurrence is a value; when the tree
// changes (a table or column name, an operator, raw SQL) or the build fails, it is structure.
// The SQL compiled with every value replaced by its marker tells which occurrence binds to each
// `?`, and the result is checked against the query's own compile (same SQL, same parameters).

/** What an occurrence turned out to be. */
export const STRUCTURE = 0
export const VALUE = 1
/** Inside an object or array that is one parameter value (a JSON column's payload). */
export const INSIDE_VALUE = 2
/** A plain object or array whose keys and items are read on their own (a row in `values`). */
export const CONTAINER = 3

/** What a skeleton's occurrences are, one entry per occurrence. */
export type Classification = Int8Array

// Learning builds the query once per occurrence; past this many (a multi-row insert, say) the
// query is built per event as before rather than paying that at every new row count.
export const MAX_LEARNED_OCCURRENCES = 64

/** The compiled SQL of one structure, and where each of its parameters comes from. */
export interface Shape {
  readonly sql: string
  /** Per `?`: the occurrence index, or -1 - i for constants[i]. */
  readonly slots: Int32Array
  readonly constants: readonly unknown[]
}

const compiler = new SqliteQueryCompiler()

/** The parameters a shape gives, as Kysely would pass them (to check a shape against Kysely). */
function parametersOf(shape: Shape, values: readonly unknown[]): unknown[] {
  const { slots, constants } = shape
  return Array.from(slots, (slot) => (slot >= 0 ? values[slot] : constants[-1 - slot]))
}

/**
 * What learning gave: `built` when the recording is not a query (returned as Kysely built it);
 * otherwise the query, the classification (undefined: this skeleton cannot be cached) and the
 * shape (undefined: this set of structural occurrences does not compile through the cache), and
 * the occurrences read.
 */
export type Learned =
  | { readonly built: unknown }
  | { readonly query: unknown; readonly kinds: Int8Array; readonly shape: Shape | undefined }
  | { readonly query: unknown; readonly kinds: undefined; readonly shape: undefined }

/** Learns the classification and the shape of the recording `step` (see above). */
export function learn(step: Step): Learned {
  const db = compileOnlyDb()
  const query = replay(step, db)
  const toNode = (query as { toOperationNode?: unknown } | null)?.toOperationNode
  if (!isViewQuery(query) || typeof toNode !== 'function') return { built: query }
  const uncacheable = { query, kinds: undefined, shape: undefined } as const
  const reading = readForLearning(step)
  const base = readNodeShape(toNode.call(query))
  if (reading === undefined || base === undefined) return uncacheable
  if (reading.count > MAX_LEARNED_OCCURRENCES) return uncacheable
  const places: readonly Place[] = reading.places ?? []
  const ends = reading.ends ?? []
  const { values } = reading
  const kinds = new Int8Array(values.length)
  const markers = values.map(markerFor)

  const rebuilt = (swap: ReadonlySet<number>) => {
    const at = new Map<object, Map<string | number, number>>()
    for (const index of swap) {
      const place = places[index] as Place
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

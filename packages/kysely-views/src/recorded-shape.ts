import { materialize, type Step } from './query-recorder.js'
import { namesOf, readForLookup, tokensOf, valuesOf } from './recording-reader.js'
import {
  boundCache,
  findShape,
  findSkeleton,
  type LookupHint,
  MATCHERS_PER_HINT,
  type ShapeEntry,
  storeShape,
  storeSkeleton,
} from './shape-cache.js'
import { learn, type Shape } from './shape-learning.js'
import { compileMatcher } from './shape-matcher.js'
import { toSqliteValue } from './sqlite-connection.js'

// Compiling a recorded query: read it (recording-reader.ts), find its skeleton and shape in the
// cache (shape-cache.ts), and bind its values into the shape's SQL. A skeleton or shape not seen
// before is learned (shape-learning.ts) and the query is built with Kysely this once.

/** SQL with `?` placeholders and its parameter values, already as SQLite binds them. */
export interface CompiledSql {
  readonly sql: string
  readonly values: readonly unknown[]
}

/** What compiling a recording gives: SQL and parameters, or the real object it built. */
export type RecordedResult = { readonly compiled: CompiledSql } | { readonly built: unknown }

/**
 * Compiles the query a recording stands for. A structure seen before costs a read of the
 * recording and two lookups (the first one saved when `hint`, the caller's own memory, already
 * holds the skeleton); a new one is built with Kysely (and learned when it can be). A recording
 * that does not build a query (e.g. `.execute()`, a promise) comes back `built`, for the caller to
 * report as it reports any other result.
 */
export function compileRecorded(step: Step, hint?: LookupHint): RecordedResult {
  if (hint !== undefined) {
    const { matchers } = hint
    for (let i = 0; i < matchers.length; i++) {
      const matcher = matchers[i] as (typeof matchers)[number]
      const values = matcher.match(step)
      if (values !== undefined) return { compiled: { sql: matcher.sql, values } }
    }
  }
  boundCache()
  const reading = readForLookup(step)
  if (reading === undefined) return built(materialize(step))
  const skeleton = findSkeleton(reading, hint)
  if (skeleton === undefined) {
    // Copied before learning: the reading is reused.
    const tokens = tokensOf(reading)
    const names = namesOf(reading)
    const values = valuesOf(reading)
    const learned = learn(step)
    if ('built' in learned) return learned
    const entry = storeSkeleton(tokens, names, learned.kinds, hint)
    if (learned.kinds !== undefined) storeShape(entry, values, learned.shape)
    return built(learned.query)
  }
  const { kinds } = skeleton
  if (kinds === undefined) return built(materialize(step))
  const entry = findShape(skeleton, reading.values)
  if (entry === undefined) {
    const values = valuesOf(reading)
    const learned = learn(step)
    if ('built' in learned) return learned
    const same =
      learned.kinds !== undefined &&
      learned.kinds.length === kinds.length &&
      learned.kinds.every((kind, i) => kind === kinds[i])
    // A classification that differs from the skeleton's would make its lookups ambiguous.
    storeShape(skeleton, values, same ? learned.shape : undefined)
    return built(learned.query)
  }
  const { shape } = entry
  if (shape === undefined) return built(materialize(step))
  const compiled = bind(shape, reading.values)
  if (hint !== undefined) {
    // Generated on the second query of a shape: the first one (learning) may be the only one.
    if (entry.matcher === undefined) entry.matcher = compileMatcher(step, kinds, shape) ?? null
    if (entry.matcher !== null) remember(hint, entry.matcher)
  }
  return { compiled }
}

function remember(hint: LookupHint, matcher: NonNullable<ShapeEntry['matcher']>): void {
  const { matchers } = hint
  if (matchers.includes(matcher)) return
  matchers.unshift(matcher)
  if (matchers.length > MATCHERS_PER_HINT) matchers.pop()
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

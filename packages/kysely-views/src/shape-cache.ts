import { FIRST_FREE_TOKEN, type Reading } from './recording-reader.js'
import { type Classification, type Shape, STRUCTURE } from './shape-learning.js'
import type { Matcher } from './shape-matcher.js'

// The per-process cache of learned structures, in two levels. A skeleton (the tokens and names
// of a recording, see recording-reader.ts) keeps the classification of its occurrences; under
// it, one entry per distinct set of structural occurrences (table and column names, operators,
// list lengths' contents…) keeps the shape compiled for it. Both levels are hashed and then
// compared in full: a hash only picks the bucket.

const MAX_SKELETONS = 1000
const MAX_SHAPES_PER_SKELETON = 100
const MAX_INTERNED = 100_000

/** One set of structural occurrences of a skeleton, and what it compiles to. */
export interface ShapeEntry {
  /** The structural occurrences as interned ids. */
  readonly tokens: Int32Array
  /** The structural occurrences themselves: a query with the very same ones needs no interning. */
  readonly structure: readonly unknown[]
  /** Undefined: this set of structural occurrences does not compile through the cache. */
  readonly shape: Shape | undefined
  /** Generated on the entry's first hit through a hint (null: it could not be). */
  matcher: Matcher | null | undefined
}

/** One skeleton: its classification and its shapes. */
export interface SkeletonEntry {
  readonly tokens: Int32Array
  readonly names: readonly unknown[]
  /** Undefined: the skeleton cannot be cached (learned once, then always built). */
  readonly kinds: Classification | undefined
  readonly shapes: Map<number, ShapeEntry[]>
  shapeCount: number
  /** The entry the last query of this skeleton used. */
  last: ShapeEntry | undefined
}

/**
 * Where one caller (a view's handler for one event type) found its last skeleton: tried first,
 * before hashing, since a handler usually builds the same structure event after event.
 */
export interface LookupHint {
  skeleton: SkeletonEntry | undefined
  /** The cache's generation when `skeleton` was found: after a start-over it is stale. */
  generation: number
  /**
   * The matchers of the shapes this caller met last, most recent first. They compare values,
   * not interned ids, so they stay valid when the cache starts over.
   */
  readonly matchers: Matcher[]
}

/** How many shapes' matchers one hint keeps (a handler with `$if` branches has a few). */
export const MATCHERS_PER_HINT = 4

/** A new, empty {@link LookupHint}. */
export function lookupHint(): LookupHint {
  return { skeleton: undefined, generation: -1, matchers: [] }
}

const interned = new Map<unknown, number>()
const skeletons = new Map<number, SkeletonEntry[]>()
let skeletonCount = 0
// Bumped when the cache starts over: a hint of an older generation is not used, since ids
// interned before mean other values now.
let generation = 0

/** The number of skeletons cached (for tests). */
export function cachedSkeletonCount(): number {
  return skeletonCount
}

/** Empties the cache. */
export function clearRecordedShapes(): void {
  skeletons.clear()
  interned.clear()
  skeletonCount = 0
  generation++
}

/**
 * Starts over when the cache is full. Called before anything of a query is read, so ids
 * interned while handling that query stay valid.
 */
export function boundCache(): void {
  if (skeletonCount >= MAX_SKELETONS || interned.size >= MAX_INTERNED) clearRecordedShapes()
}

/** The skeleton `reading` has, or undefined when it is not cached. */
export function findSkeleton(reading: Reading, hint?: LookupHint): SkeletonEntry | undefined {
  const hinted = hint?.skeleton
  if (
    hinted !== undefined &&
    (hint as LookupHint).generation === generation &&
    sameSkeleton(hinted, reading)
  ) {
    return hinted
  }
  const bucket = skeletons.get(hashOf(reading.tokens, reading.size))
  if (bucket === undefined) return undefined
  for (const entry of bucket) {
    if (sameSkeleton(entry, reading)) {
      if (hint !== undefined) remember(hint, entry)
      return entry
    }
  }
  return undefined
}

function remember(hint: LookupHint, entry: SkeletonEntry): void {
  hint.skeleton = entry
  hint.generation = generation
}

function sameSkeleton(entry: SkeletonEntry, reading: Reading): boolean {
  const { tokens, size, names, nameCount } = reading
  const known = entry.tokens
  if (known.length !== size || entry.names.length !== nameCount) return false
  for (let i = 0; i < size; i++) if (known[i] !== tokens[i]) return false
  const knownNames = entry.names
  for (let i = 0; i < nameCount; i++) if (knownNames[i] !== names[i]) return false
  return true
}

/** Adds a skeleton (its tokens and names, copied by the caller) with its classification. */
export function storeSkeleton(
  tokens: Int32Array,
  names: readonly unknown[],
  kinds: Classification | undefined,
  hint?: LookupHint,
): SkeletonEntry {
  const entry: SkeletonEntry = { tokens, names, kinds, shapes: new Map(), shapeCount: 0, last: undefined }
  const hash = hashOf(tokens, tokens.length)
  const bucket = skeletons.get(hash)
  if (bucket === undefined) skeletons.set(hash, [entry])
  else bucket.push(entry)
  skeletonCount++
  if (hint !== undefined) remember(hint, entry)
  return entry
}

/** The shape entry for the structural occurrences among `values`, or undefined. */
export function findShape(skeleton: SkeletonEntry, values: readonly unknown[]): ShapeEntry | undefined {
  const kinds = skeleton.kinds as Classification
  const last = skeleton.last
  if (last !== undefined && sameStructure(last.structure, values, kinds)) return last
  const structural = structuralTokens(values, kinds)
  const bucket = skeleton.shapes.get(hashOf(structural, structural.length))
  if (bucket === undefined) return undefined
  search: for (const entry of bucket) {
    const known = entry.tokens
    if (known.length !== structural.length) continue
    for (let i = 0; i < known.length; i++) if (known[i] !== structural[i]) continue search
    skeleton.last = entry
    return entry
  }
  return undefined
}

/** Adds the shape (or undefined: not cacheable) of the structural occurrences among `values`. */
export function storeShape(
  skeleton: SkeletonEntry,
  values: readonly unknown[],
  shape: Shape | undefined,
): void {
  const kinds = skeleton.kinds as Classification
  if (skeleton.shapeCount >= MAX_SHAPES_PER_SKELETON) {
    skeleton.shapes.clear()
    skeleton.shapeCount = 0
    skeleton.last = undefined
  }
  const tokens = structuralTokens(values, kinds)
  const structure = values.filter((_, i) => kinds[i] === STRUCTURE)
  const entry: ShapeEntry = { tokens: Int32Array.from(tokens), structure, shape, matcher: undefined }
  const hash = hashOf(tokens, tokens.length)
  const bucket = skeleton.shapes.get(hash)
  if (bucket === undefined) skeleton.shapes.set(hash, [entry])
  else bucket.push(entry)
  skeleton.shapeCount++
  skeleton.last = entry
}

function sameStructure(
  structure: readonly unknown[],
  values: readonly unknown[],
  kinds: Classification,
): boolean {
  let k = 0
  for (let i = 0; i < kinds.length; i++) {
    if (kinds[i] === STRUCTURE && structure[k++] !== values[i]) return false
  }
  return true
}

function structuralTokens(values: readonly unknown[], kinds: Classification): number[] {
  const tokens: number[] = []
  for (let i = 0; i < kinds.length; i++) if (kinds[i] === STRUCTURE) tokens.push(intern(values[i]))
  return tokens
}

function intern(value: unknown): number {
  let id = interned.get(value)
  if (id === undefined) {
    id = interned.size + FIRST_FREE_TOKEN
    interned.set(value, id)
  }
  return id
}

function hashOf(tokens: readonly number[] | Int32Array, size: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < size; i++) hash = Math.imul(hash ^ (tokens[i] as number), 0x01000193)
  return hash
}

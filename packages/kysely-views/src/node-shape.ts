import type { OperationNode } from 'kysely'

/** A Kysely operation node tree taken apart: its structure as token ids, and its values. */
export interface NodeShape {
  readonly tokens: number[]
  readonly values: unknown[]
}

// Compiling is deterministic in the operation node tree, and only two kinds of node put a
// JavaScript value into the parameters instead of the SQL text: a ValueNode that is not
// immediate and a PrimitiveValueListNode. Everything else (identifiers, operators, raw SQL
// fragments, immediate values, list lengths, field names) is structure: two trees with the same
// tokens compile to the same SQL and differ only in their parameter values.
//   value  := OBJECT (name value)* END | ARRAY length value* | VALUE | VALUE_LIST length
//           | NULL | UNDEFINED | TRUE | FALSE | string | number | bigint (interned)
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
// Ids only need to agree between trees read close together (one learning of a query shape);
// starting over bounds the table when structural strings come from data.
const MAX_INTERNED = 100_000

const interned = new Map<unknown, number>()

/**
 * Reads `node` into the tokens of its structure and its parameter values (in walk order), or
 * undefined when the tree holds something whose effect on the SQL the walk cannot encode (a
 * class instance or a function as structure).
 */
export function readNodeShape(node: OperationNode): NodeShape | undefined {
  if (interned.size >= MAX_INTERNED) interned.clear()
  const shape: NodeShape = { tokens: [], values: [] }
  return walk(node, shape) ? shape : undefined
}

/** True when both trees have the same structure. */
export function sameNodeStructure(a: NodeShape, b: NodeShape): boolean {
  return a.tokens.length === b.tokens.length && a.tokens.every((token, i) => token === b.tokens[i])
}

function intern(value: unknown): number {
  let id = interned.get(value)
  if (id === undefined) {
    id = interned.size + FIRST_INTERNED
    interned.set(value, id)
  }
  return id
}

function walk(value: unknown, shape: NodeShape): boolean {
  const { tokens } = shape
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
    for (let i = 0; i < value.length; i++) if (!walk(value[i], shape)) return false
    return true
  }
  const object = value as Record<string, unknown>
  const kind = object.kind
  if (kind === 'ValueNode' && object.immediate !== true) {
    tokens.push(VALUE)
    shape.values.push(object.value)
    return true
  }
  if (kind === 'PrimitiveValueListNode') {
    const values = object.values as readonly unknown[]
    tokens.push(VALUE_LIST, values.length)
    for (let i = 0; i < values.length; i++) shape.values.push(values[i])
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
    if (!walk(field, shape)) return false
  }
  tokens.push(END)
  return true
}

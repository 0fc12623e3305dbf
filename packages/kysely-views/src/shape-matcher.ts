import { CALL, GET, RecordedCallback, ROOT, recordedStep, type Step } from './query-recorder.js'
import { type Classification, type Shape, STRUCTURE, VALUE } from './shape-learning.js'
import { toSqliteValue } from './sqlite-connection.js'

// A matcher is a function generated for one learned shape: given a recording, it checks that the
// recording has that shape's skeleton and structural occurrences and returns the parameter values
// to bind, in one pass and without the general read and the two hash lookups (recorded-shape.ts).
// It is generated from a recording that the general path has just matched to the shape, walking
// it in the very order recording-reader.ts reads, so it checks what that read compares: every
// token (step kinds, argument counts and types, array lengths, object keys, callbacks taken or
// skipped, which callback a root belongs to), every name and every structural occurrence (by
// `===`, stricter than the cache's interning: a NaN only misses). Anything else makes it answer
// undefined and the caller takes the general path.

/** The generated check-and-bind function of one shape, with that shape's SQL. */
export interface Matcher {
  readonly sql: string
  /** The SQLite-bindable parameter values, or undefined when `step` does not have this shape. */
  readonly match: (step: Step) => unknown[] | undefined
}

class Generator {
  readonly lines: string[] = []
  /** Values the generated code compares with or binds: names, structural values, constants. */
  readonly constants: unknown[] = []
  /** The variable holding each occurrence, by occurrence index (reading order). */
  readonly occurrences: string[] = []
  /** Whether each occurrence needs `toSqliteValue` when bound (objects do, primitives not). */
  readonly convert: boolean[] = []
  private variables = 0
  /** The callbacks entered so far: each one's root and the variable that holds it. */
  private readonly roots = new Map<Step, string>()

  readonly kinds: Classification

  constructor(kinds: Classification) {
    this.kinds = kinds
  }

  variable(expression: string): string {
    const name = `v${this.variables++}`
    this.lines.push(`const ${name} = ${expression};`)
    return name
  }

  /** An expression for `value`: a string literal for strings, else a slot of the constants. */
  constant(value: unknown): string {
    if (typeof value === 'string') return JSON.stringify(value)
    this.constants.push(value)
    return `K[${this.constants.length - 1}]`
  }

  fail(condition: string): void {
    this.lines.push(`if (${condition}) return undefined;`)
  }

  step(step: Step, at: string): boolean {
    switch (step.kind) {
      case ROOT:
        if (step.isDb) {
          this.fail(`${at}.isDb !== true`)
          return true
        }
        {
          // The root of a callback entered earlier in this walk, as the reader's stamp checks.
          const root = this.roots.get(step)
          if (root === undefined) return false
          this.fail(`${at} !== ${root}`)
          return true
        }
      case GET: {
        this.fail(`${at}.kind !== ${GET} || ${at}.name !== ${this.constant(step.name)}`)
        if (!this.step(step.parent as Step, this.variable(`${at}.parent`))) return false
        return true
      }
      case CALL: {
        const { args } = step
        this.fail(`${at}.kind !== ${CALL} || ${at}.args.length !== ${args.length}`)
        if (!this.step(step.parent as Step, this.variable(`${at}.parent`))) return false
        const list = this.variable(`${at}.args`)
        for (let i = 0; i < args.length; i++)
          if (!this.value(args[i], this.variable(`${list}[${i}]`))) return false
        return true
      }
    }
  }

  private occurrence(value: unknown, at: string, convert: boolean): void {
    const index = this.occurrences.length
    this.occurrences.push(at)
    this.convert.push(convert)
    if (this.kinds[index] === STRUCTURE) this.fail(`${at} !== ${this.constant(value)}`)
  }

  value(value: unknown, at: string): boolean {
    switch (typeof value) {
      case 'string':
      case 'number':
      case 'bigint':
        this.fail(`typeof ${at} !== '${typeof value}'`)
        this.occurrence(value, at, false)
        return true
      case 'boolean':
        this.fail(`${at} !== ${value}`)
        return true
      case 'undefined':
        this.fail(`${at} !== undefined`)
        return true
      case 'function': {
        const step = recordedStep(value)
        if (step === undefined) return false
        const inner = this.variable(`RS(${at})`)
        this.fail(`${inner} === undefined`)
        return this.step(step, inner)
      }
      case 'object':
        break
      default:
        return false
    }
    if (value === null) {
      this.fail(`${at} !== null`)
      return true
    }
    // The reader's order of tests: a recording, a callback, an array, a plain object, opaque.
    // Each branch checks what tells its kind apart from the others (a recording's proxy is not
    // an array nor a callback, and its prototype is Object's or Function's).
    const step = recordedStep(value)
    if (step !== undefined) {
      const inner = this.variable(`RS(${at})`)
      this.fail(`${inner} === undefined`)
      return this.step(step, inner)
    }
    if (value instanceof RecordedCallback) {
      this.fail(`!(${at} instanceof RC) || ${at}.ran !== ${value.ran}`)
      if (!value.ran) return true
      const root = this.variable(`${at}.root`)
      this.roots.set(value.root, root)
      return this.value(value.result, this.variable(`${at}.result`))
    }
    if (Array.isArray(value)) {
      this.fail(`!Array.isArray(${at}) || ${at}.length !== ${value.length}`)
      this.occurrence(value, at, true)
      for (let i = 0; i < value.length; i++)
        if (!this.value(value[i], this.variable(`${at}[${i}]`))) return false
      return true
    }
    this.fail(`typeof ${at} !== 'object' || ${at} === null || Array.isArray(${at})`)
    const prototype = Object.getPrototypeOf(value)
    const prototypeOf = this.variable(`Object.getPrototypeOf(${at})`)
    if (prototype === Object.prototype || prototype === null) {
      this.fail(`${prototypeOf} !== Object.prototype && ${prototypeOf} !== null`)
      this.fail(`RS(${at}) !== undefined`)
      this.occurrence(value, at, true)
      const names: string[] = []
      for (const name in value) names.push(name)
      // for-in, as the reader: the same keys in the same order, and no more.
      const count = `n${this.variables++}`
      const cases = names.map(
        (name, i) => `case ${i}: if (key !== ${JSON.stringify(name)}) return undefined; break;`,
      )
      this.lines.push(`let ${count} = 0;`)
      this.lines.push(
        `for (const key in ${at}) { switch (${count}++) { ${cases.join(' ')} default: return undefined; } }`,
      )
      this.fail(`${count} !== ${names.length}`)
      const object = value as Record<string, unknown>
      for (const name of names) {
        if (!this.value(object[name], this.variable(`${at}[${JSON.stringify(name)}]`))) return false
      }
      return true
    }
    if (typeof (value as { toOperationNode?: unknown }).toOperationNode === 'function') return false
    // Opaque (a Date, a Buffer): its prototype is neither Object's nor Array's nor a callback's.
    this.fail(`${prototypeOf} !== ${this.constant(prototype)}`)
    this.fail(`typeof ${at}.toOperationNode === 'function'`)
    this.occurrence(value, at, true)
    return true
  }
}

/**
 * Generates the matcher of `shape` from `step`, a recording the general path has just found to
 * have that shape (its skeleton's classification is `kinds`). Undefined when the recording holds
 * something the generator does not describe, or when code cannot be generated here (Node run
 * with `--disallow-code-generation-from-strings`): the general path keeps working.
 */
export function compileMatcher(step: Step, kinds: Classification, shape: Shape): Matcher | undefined {
  const generator = new Generator(kinds)
  if (!generator.step(step, 's')) return undefined
  if (generator.occurrences.length !== kinds.length) return undefined
  const bound: string[] = []
  for (const slot of shape.slots) {
    if (slot < 0) {
      bound.push(`T(${generator.constant(shape.constants[-1 - slot])})`)
      continue
    }
    const at = generator.occurrences[slot]
    if (at === undefined || kinds[slot] !== VALUE) return undefined
    bound.push(generator.convert[slot] ? `T(${at})` : at)
  }
  const body = `${generator.lines.join('\n')}\nreturn [${bound.join(', ')}];`
  try {
    const make = new Function('K', 'RS', 'RC', 'T', `return function match(s) {\n${body}\n}`)
    const match = make(generator.constants, recordedStep, RecordedCallback, toSqliteValue) as Matcher['match']
    return { sql: shape.sql, match }
  } catch {
    return undefined
  }
}

import type { Kysely } from 'kysely'
import { compileOnlyDb } from './compile-only-db.js'

/**
 * The `db` a view handler receives: it records the Kysely calls a handler makes instead of
 * building the query at once. Building a Kysely query costs several times what running it costs
 * (every `set`/`where` callback gets a new expression builder, every node is frozen), so a
 * recorded query is built with Kysely only the first time its structure is seen (see
 * `recorded-shape.ts`); afterwards its values are bound into the SQL compiled then.
 *
 * A recording is a tree of steps: a root (the handler's `db`, or the argument Kysely passes to a
 * callback), a property read, or a call with its arguments. Callbacks run at once, as Kysely runs
 * them, with a recording root as their argument; their result is recorded with the call.
 */
export type StepKind = typeof ROOT | typeof GET | typeof CALL

/** The handler's `db` or the argument of a recorded callback. */
export const ROOT = 0
/** `parent.name`. */
export const GET = 1
/** `parent(...args)`; `this` is the parent's parent when the parent is a property read. */
export const CALL = 2

/**
 * One step of a recording. All steps share this one class (a numeric `kind` instead of one type
 * per kind), so the code that reads recordings sees one object layout; each step is also the
 * handler of its own proxy, so a recorded call allocates the step and the proxy and nothing else.
 */
export class Step {
  readonly kind: StepKind
  /** Undefined only for a root. */
  readonly parent: Step | undefined
  /** The property a GET reads ('' otherwise). */
  readonly name: string
  /** The arguments of a CALL (empty otherwise). */
  readonly args: readonly unknown[]
  /** A root that is the handler's `db` (false: a callback's argument). */
  readonly isDb: boolean
  /** Set while a recording is read: the reading a callback root was numbered in, and its number. */
  stamp = 0
  number = 0

  constructor(
    kind: StepKind,
    parent: Step | undefined,
    name: string,
    args: readonly unknown[],
    isDb: boolean,
  ) {
    this.kind = kind
    this.parent = parent
    this.name = name
    this.args = args
    this.isDb = isDb
  }

  // ---- proxy traps (the step is its proxy's handler) ----

  get(_target: unknown, name: string | symbol): unknown {
    return getTrap(this, name)
  }

  apply(_target: unknown, _this: unknown, args: unknown[]): unknown {
    return applyTrap(this, args)
  }
}

/** A callback argument: its argument root and what it returned (`ran` false: `$if` skipped it). */
export class RecordedCallback {
  readonly root: Step
  readonly ran: boolean
  readonly result: unknown
  constructor(root: Step, ran: boolean, result: unknown) {
    this.root = root
    this.ran = ran
    this.result = result
  }
}

const STEP = Symbol('eskit.recordedStep')

/** The step behind a recording, or undefined for any other value. */
export function recordedStep(value: unknown): Step | undefined {
  if ((typeof value !== 'function' && typeof value !== 'object') || value === null) return undefined
  return (value as { [STEP]?: Step })[STEP]
}

/**
 * Replaces values while a recording is replayed: `substitute(container, key, value)` returns
 * what to use for `container[key]` (the learning of a shape swaps single values for markers).
 */
export type Substitute = (container: object, key: string | number, value: unknown) => unknown

const keep: Substitute = (_container, _key, value) => value

/**
 * Builds the real Kysely object a recording stands for, on `db`: each property read and call
 * again, in order, each callback answering with its recorded result. Arguments that hold no
 * recording, callback or substituted value are passed as they are (the same object).
 */
export function replay(step: Step, db: unknown, substitute: Substitute = keep): unknown {
  const roots = new Map<Step, unknown>()
  const realOf = (at: Step): unknown => {
    switch (at.kind) {
      case ROOT: {
        if (at.isDb) return db
        if (!roots.has(at)) throw new TypeError('a callback argument was used outside its callback')
        return roots.get(at)
      }
      case GET:
        return (realOf(at.parent as Step) as Record<string, unknown>)[at.name]
      case CALL: {
        const args = at.args.map((arg, index) => argument(at.args, index, arg))
        const parent = at.parent as Step
        if (parent.kind === GET) {
          const self = realOf(parent.parent as Step) as Record<string, (...a: unknown[]) => unknown>
          return (self[parent.name] as (...a: unknown[]) => unknown).apply(self, args)
        }
        return (realOf(parent) as (...a: unknown[]) => unknown)(...args)
      }
    }
  }
  const argument = (container: object, key: string | number, value: unknown): unknown => {
    const substituted = substitute(container, key, value)
    if (substituted !== value) return substituted
    const step = recordedStep(value)
    if (step !== undefined) return realOf(step)
    if (value instanceof RecordedCallback) {
      const callback = value
      return (real: unknown) => {
        if (!callback.ran) throw new TypeError('a callback skipped by $if was called')
        roots.set(callback.root, real)
        return argument(callback, 'result', callback.result)
      }
    }
    if (typeof value !== 'object' || value === null) return value
    if (Array.isArray(value)) {
      const items = value.map((item, index) => argument(value, index, item))
      return items.some((item, index) => item !== value[index]) ? items : value
    }
    if (Object.getPrototypeOf(value) !== Object.prototype) return value
    const source = value as Record<string, unknown>
    let copy: Record<string, unknown> | undefined
    for (const name in source) {
      const field = argument(source, name, source[name])
      if (field !== source[name] && copy === undefined) copy = { ...source }
      if (copy !== undefined) copy[name] = field
    }
    return copy ?? value
  }
  return realOf(step)
}

function getTrap(step: Step, name: string | symbol): unknown {
  if (typeof name === 'symbol') {
    if (name === STEP) return step
    if (name === Symbol.toPrimitive) {
      return (hint: string) => {
        const real = materialize(step)
        return hint === 'number' ? Number(real) : String(real)
      }
    }
    return undefined
  }
  // Not a thenable: an `await` on a recording must not call into it.
  if (name === 'then') return undefined
  // Used outside eskit (as a parameter of a `sql` template) or executed, a recording turns into
  // the real builder: execute() then rejects with INVALID_STATE as the build-only Kysely does,
  // instead of doing nothing.
  if (materializes(name)) {
    return (...args: unknown[]) => {
      const real = materialize(step) as Record<string, (...a: unknown[]) => unknown>
      return (real[name] as (...a: unknown[]) => unknown).apply(real, args)
    }
  }
  if (step.isDb) {
    // `db.insertInto`, `db.updateTable`, …: the same for every query, made once.
    let proxy = dbMethods.get(name)
    if (proxy === undefined) {
      proxy = proxyFor(new Step(GET, step, name, NO_ARGS, false))
      if (dbMethods.size < 256) dbMethods.set(name, proxy)
    }
    return proxy
  }
  return proxyFor(new Step(GET, step, name, NO_ARGS, false))
}

const NO_ARGS: readonly unknown[] = Object.freeze([])
const dbMethods = new Map<string, unknown>()

// A switch rather than a Set: property keys and these literals are internalized strings, so
// each case is a pointer comparison, cheaper than hashing the name on every property read.
function materializes(name: string): boolean {
  switch (name) {
    case 'toOperationNode':
    case 'compile':
    case 'execute':
    case 'executeTakeFirst':
    case 'executeTakeFirstOrThrow':
    case 'stream':
      return true
    default:
      return false
  }
}

/** The real Kysely object a recording stands for, built on the compile-only Kysely. */
export function materialize(step: Step): unknown {
  return replay(step, compileOnlyDb())
}

function applyTrap(step: Step, args: unknown[]): unknown {
  const conditional = step.kind === GET && step.name === '$if'
  // The engine hands the trap a fresh array: it becomes the recorded arguments.
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (typeof arg === 'function' && recordedStep(arg) === undefined) {
      // `$if(condition, fn)` runs fn only when the condition holds, as Kysely does.
      const runs = !conditional || Boolean(args[0])
      const root = new Step(ROOT, undefined, '', NO_ARGS, false)
      const result = runs ? (arg as (a: unknown) => unknown)(proxyFor(root)) : undefined
      args[i] = new RecordedCallback(root, runs, result)
    } else if (conditional && i === 0) {
      args[i] = Boolean(arg)
    }
  }
  return proxyFor(new Step(CALL, step, '', args, false))
}

// Every proxy of one kind shares its target: the step, as the handler, holds all there is. The
// targets are not extensible, so no property can be set through one proxy onto all of them.
// Without own properties either, freezing a proxy changes nothing in the shared target.
const callableTarget = Object.preventExtensions(withoutOwnProperties(() => {}))
const objectTarget = Object.preventExtensions({})

function withoutOwnProperties<T extends object>(target: T): T {
  for (const key of Reflect.ownKeys(target)) Reflect.deleteProperty(target, key)
  return target
}

function proxyFor(step: Step): unknown {
  // A call's result is a builder: an object, as Kysely's own checks (`isOperationNodeSource`)
  // expect. Property reads (methods, `eb.fn`) and callback arguments (`eb`) may be called.
  return new Proxy(step.kind === CALL ? objectTarget : callableTarget, step as ProxyHandler<object>)
}

/**
 * The recording `db` for view handlers, typed as the `Kysely<Tables>` it stands for; a
 * recording used outside eskit (converted to a string, handed to a `sql` template) is built then.
 */
export function recordingDb<Tables>(): Kysely<Tables> {
  return proxyFor(new Step(ROOT, undefined, '', NO_ARGS, true)) as Kysely<Tables>
}

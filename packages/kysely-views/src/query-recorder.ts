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
export type Step = RootStep | GetStep | CallStep

/** The handler's `db` (`isDb`) or the argument of a recorded callback. */
export interface RootStep {
  readonly type: 'root'
  readonly isDb: boolean
  /** Set while a recording is read: the reading it was numbered in, and its number there. */
  stamp: number
  number: number
}

/** `parent.name`. */
export interface GetStep {
  readonly type: 'get'
  readonly parent: Step
  readonly name: string
}

/** `parent(...args)`; `this` is the parent's parent when the parent is a property read. */
export interface CallStep {
  readonly type: 'call'
  readonly parent: Step
  readonly args: readonly unknown[]
}

/** A callback argument: its argument root and what it returned (`ran` false: `$if` skipped it). */
export class RecordedCallback {
  readonly root: RootStep
  readonly ran: boolean
  readonly result: unknown
  constructor(root: RootStep, ran: boolean, result: unknown) {
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
  const roots = new Map<RootStep, unknown>()
  const realOf = (at: Step): unknown => {
    switch (at.type) {
      case 'root': {
        if (at.isDb) return db
        if (!roots.has(at)) throw new TypeError('a callback argument was used outside its callback')
        return roots.get(at)
      }
      case 'get':
        return (realOf(at.parent) as Record<string, unknown>)[at.name]
      case 'call': {
        const args = at.args.map((arg, index) => argument(at.args, index, arg))
        if (at.parent.type === 'get') {
          const self = realOf(at.parent.parent) as Record<string, (...a: unknown[]) => unknown>
          return (self[at.parent.name] as (...a: unknown[]) => unknown).apply(self, args)
        }
        return (realOf(at.parent) as (...a: unknown[]) => unknown)(...args)
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

const getHandler = (target: { [STEP]: Step }, name: string | symbol): unknown => {
  const step = target[STEP]
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
  if (MATERIALIZING.has(name)) {
    return (...args: unknown[]) => {
      const real = materialize(step) as Record<string, (...a: unknown[]) => unknown>
      return (real[name] as (...a: unknown[]) => unknown).apply(real, args)
    }
  }
  if (step.type === 'root' && step.isDb) {
    // `db.insertInto`, `db.updateTable`, …: the same for every query, made once.
    let proxy = dbMethods.get(name)
    if (proxy === undefined) {
      proxy = proxyFor({ type: 'get', parent: step, name })
      if (dbMethods.size < 256) dbMethods.set(name, proxy)
    }
    return proxy
  }
  return proxyFor({ type: 'get', parent: step, name })
}

const dbMethods = new Map<string, unknown>()

const MATERIALIZING = new Set([
  'toOperationNode',
  'compile',
  'execute',
  'executeTakeFirst',
  'executeTakeFirstOrThrow',
  'stream',
])

/** The real Kysely object a recording stands for, built on the compile-only Kysely. */
export function materialize(step: Step): unknown {
  return replay(step, compileOnlyDb())
}

const applyHandler = (target: { [STEP]: Step }, _this: unknown, args: unknown[]): unknown => {
  const step = target[STEP]
  const conditional = step.type === 'get' && step.name === '$if'
  // The engine hands the trap a fresh array: it becomes the recorded arguments.
  const recordedArgs = args
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (typeof arg === 'function' && recordedStep(arg) === undefined) {
      // `$if(condition, fn)` runs fn only when the condition holds, as Kysely does.
      const runs = !conditional || Boolean(args[0])
      const root: RootStep = { type: 'root', isDb: false, stamp: 0, number: 0 }
      const result = runs ? (arg as (a: unknown) => unknown)(proxyFor(root)) : undefined
      recordedArgs[i] = new RecordedCallback(root, runs, result)
    } else {
      recordedArgs[i] = conditional && i === 0 ? Boolean(arg) : arg
    }
  }
  return proxyFor({ type: 'call', parent: step, args: recordedArgs })
}

const functionHandler: ProxyHandler<any> = { get: getHandler, apply: applyHandler }
const objectHandler: ProxyHandler<any> = { get: getHandler }

function proxyFor(step: Step): unknown {
  // A call's result is a builder: an object, as Kysely's own checks (`isOperationNodeSource`)
  // expect. Property reads (methods, `eb.fn`) and callback arguments (`eb`) may be called.
  if (step.type === 'call') return new Proxy({ [STEP]: step }, objectHandler)
  const target = function recorded() {} as unknown as { [STEP]: Step }
  target[STEP] = step
  return new Proxy(target, functionHandler)
}

/**
 * The recording `db` for view handlers, typed as the `Kysely<Tables>` it stands for; a
 * recording used outside eskit (converted to a string, handed to a `sql` template) is built then.
 */
export function recordingDb<Tables>(): Kysely<Tables> {
  const root: RootStep = { type: 'root', isDb: true, stamp: 0, number: 0 }
  return proxyFor(root) as Kysely<Tables>
}

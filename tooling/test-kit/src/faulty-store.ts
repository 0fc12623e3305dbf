/** The faults a {@link faultyStore} injects; each returns what to throw (or undefined for none). */
export interface StoreFaults {
  /** Thrown by `openSlot(projection)`. */
  openSlot?: (name: string) => unknown
  /** Thrown by `commit` of any slot or build of `name`. */
  commit?: (name: string) => unknown
  /** Thrown by `swap()` of a build of `name`, before the inner swap (nothing swapped). */
  swap?: (name: string) => unknown
  /** Thrown by `swap()` of a build of `name` after the inner swap succeeded (the data was replaced). */
  afterSwap?: (name: string) => unknown
  /** Answers `check()` of the live slots (the store then claims `detectsLoss`). */
  check?: (name: string) => 'ok' | 'lost'
}

interface NamedSlot {
  readonly name: string
}

interface StoreShape {
  readonly capabilities: object
  openSlot(projection: { name: string }): Promise<NamedSlot>
  beginBuild?(projection: { name: string }): Promise<NamedSlot>
}

/**
 * Wraps a projection store (any `ProjectionStore` of `@eskit/core`) so a test can inject faults into
 * `openSlot`, every slot's `commit` and `check`, and a build's `swap`; everything else goes to the
 * inner store unchanged.
 *
 * @example
 * ```ts
 * let failing = true
 * const store = faultyStore(memoryStore(), { commit: () => (failing ? new EskitError('IO', 'disk') : undefined) })
 * ```
 */
export function faultyStore<Store extends StoreShape>(inner: Store, faults: StoreFaults): Store {
  const raise = (fault: ((name: string) => unknown) | undefined, name: string): void => {
    const error = fault?.(name)
    if (error !== undefined) throw error
  }
  const wrapSlot = <Slot extends NamedSlot>(slot: Slot, live: boolean): Slot =>
    new Proxy(slot, {
      get(target, key, receiver) {
        if (key === 'commit') {
          return async (batch: unknown) => {
            raise(faults.commit, target.name)
            return (target as unknown as { commit(batch: unknown): Promise<void> }).commit(batch)
          }
        }
        if (key === 'check' && live && faults.check) return () => faults.check?.(target.name) ?? 'ok'
        if (key === 'swap' && !live) {
          return async () => {
            raise(faults.swap, target.name)
            const swapped = await (target as unknown as { swap(): Promise<NamedSlot> }).swap()
            raise(faults.afterSwap, target.name)
            return wrapSlot(swapped, true)
          }
        }
        const value = Reflect.get(target, key, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'capabilities' && faults.check) return { ...target.capabilities, detectsLoss: true }
      if (key === 'openSlot') {
        return async (projection: { name: string }) => {
          raise(faults.openSlot, projection.name)
          return wrapSlot(await target.openSlot(projection), true)
        }
      }
      if (key === 'beginBuild' && target.beginBuild) {
        const begin = target.beginBuild.bind(target)
        return async (projection: { name: string }) => wrapSlot(await begin(projection), false)
      }
      const value = Reflect.get(target, key, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

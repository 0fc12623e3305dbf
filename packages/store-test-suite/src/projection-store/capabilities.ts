import type { ProjectionSlot, ProjectionStore, StoreCapabilities } from '@eskit/core'

/** The method a capability promises on the store (`detectsLoss` promises `check()` on each slot). */
const METHOD = {
  buildBeside: 'beginBuild',
  externalRequests: 'takeRequests',
  detectsLoss: null,
  // lend() is on each build, proven by the collector's worker tests
  workerBuilds: null,
} as const

/**
 * Whether the tests of `capability` run for `store`: false when the store does not claim it (the
 * test is skipped); throws when it claims it without the method behind it, or without the suite
 * `hooks` the test needs to exercise it. A claim that cannot be proven fails the suite.
 *
 * @example
 * ```ts
 * if (!claimsCapability(store, 'buildBeside')) return test.skip()
 * ```
 */
export function claimsCapability(
  store: ProjectionStore<unknown>,
  capability: keyof StoreCapabilities,
  hooks: Record<string, unknown> = {},
): boolean {
  if (!store.capabilities[capability]) return false
  const method = METHOD[capability]
  if (method !== null && typeof store[method] !== 'function') {
    throw new Error(
      `the store claims capabilities.${capability} but has no ${method}() method: implement it or set the capability to false`,
    )
  }
  for (const [name, hook] of Object.entries(hooks)) {
    if (typeof hook !== 'function') {
      throw new Error(
        `the store claims capabilities.${capability}: pass the suite option ${name} so the suite can prove it`,
      )
    }
  }
  return true
}

/**
 * Throws unless a live slot of a store that claims `detectsLoss` has a `check()` method.
 *
 * @example
 * ```ts
 * assertSlotChecksLoss(store, await store.openSlot(projection))
 * ```
 */
export function assertSlotChecksLoss(store: ProjectionStore<unknown>, slot: ProjectionSlot): void {
  if (store.capabilities.detectsLoss && typeof slot.check !== 'function') {
    throw new Error(
      'the store claims capabilities.detectsLoss but its slots have no check() method: implement it or set the capability to false',
    )
  }
}

import { describe } from 'vitest'
import { groupTitle, useSuiteContext } from '../suite-context.js'
import { closeTests } from './close.js'
import { expectedVersionTests } from './expected-version.js'
import {
  ALL_GROUPS,
  createEventStoreSuiteKit,
  type EventStoreGroup,
  type EventStoreSuiteKit,
  type EventStoreSuiteOptions,
} from './kit.js'
import { onAppendTests } from './on-append.js'
import { orderingTests } from './ordering.js'
import { readPageTests } from './read-page.js'
import { readStreamTests } from './read-stream.js'
import { typeFilterTests } from './type-filter.js'
import { validationTests } from './validation.js'
import { workerSourceTests } from './worker-source.js'

/**
 * Every group of the event-store suite by name; each is also exported on its own (e.g.
 * `orderingTests`) and runnable alone with {@link runEventStoreGroup}.
 *
 * @example
 * ```ts
 * Object.keys(eventStoreGroups) // ['ordering', 'expectedVersion', ...]
 * ```
 */
export const eventStoreGroups: { readonly [G in EventStoreGroup]: (kit: EventStoreSuiteKit) => void } = {
  ordering: orderingTests,
  expectedVersion: expectedVersionTests,
  typeFilter: typeFilterTests,
  readStream: readStreamTests,
  onAppend: onAppendTests,
  validation: validationTests,
  close: closeTests,
  workerSource: workerSourceTests,
  readPage: readPageTests,
}

function defineGroups(options: EventStoreSuiteOptions, groups: readonly EventStoreGroup[]): void {
  for (const group of Object.keys(options.skip ?? {})) {
    if (!ALL_GROUPS.includes(group as EventStoreGroup))
      throw new Error(`runEventStoreSuite: unknown group ${group}`)
  }
  describe(`event store conformance: ${options.name}`, () => {
    const kit = createEventStoreSuiteKit(options, useSuiteContext())
    for (const group of groups) {
      const { title, skipped } = groupTitle(group, options.skip)
      const body = (): void => eventStoreGroups[group](kit)
      if (skipped) describe.skip(title, body)
      else describe(title, body)
    }
  })
}

/**
 * Defines the event-store conformance tests (vitest `describe`/`it`) for an {@link EventStore}
 * adapter: ordering and positions, `expectedVersion` in all forms, type-filtered reads,
 * `readStream`, `onAppend`, validation, close and reopen, a worker source that reads the same
 * log in a worker thread, and `readPage` (the head and a page in one call).
 *
 * @example
 * ```ts
 * // sqlite-event-store.suite.test.ts
 * import { runEventStoreSuite } from '@eskit/store-test-suite'
 * runEventStoreSuite({
 *   name: 'sqlite event store',
 *   create: (location) => openSqliteEventStore({ path: `${location}/events.db` }),
 * })
 * ```
 */
export function runEventStoreSuite(options: EventStoreSuiteOptions): void {
  defineGroups(options, ALL_GROUPS)
}

/**
 * Defines one group of the event-store suite (or a few).
 *
 * @example
 * ```ts
 * runEventStoreGroup('expectedVersion', { name: 'my log', create: (location) => openMyLog(location) })
 * ```
 */
export function runEventStoreGroup(
  groups: EventStoreGroup | readonly EventStoreGroup[],
  options: EventStoreSuiteOptions,
): void {
  defineGroups(options, typeof groups === 'string' ? [groups] : groups)
}

export type { EventStoreGroup, EventStoreSuiteKit, EventStoreSuiteOptions } from './kit.js'
export {
  closeTests,
  expectedVersionTests,
  onAppendTests,
  orderingTests,
  readPageTests,
  readStreamTests,
  typeFilterTests,
  validationTests,
  workerSourceTests,
}

import { describe } from 'vitest'
import { groupTitle, useSuiteContext } from '../suite-context.js'
import { atomicityTests } from './atomicity.js'
import { beyondHeadTests } from './beyond-head.js'
import { buildBesideTests } from './build-beside.js'
import { catchUpTests } from './catch-up.js'
import { checkpointSwapTests } from './checkpoint-swap.js'
import { externalRequestsTests } from './external-requests.js'
import { failureIsolationTests } from './failure-isolation.js'
import { initializeTests } from './initialize.js'
import {
  ALL_GROUPS,
  createProjectionSuiteKit,
  type ProjectionStoreGroup,
  type ProjectionStoreSuiteOptions,
  type ProjectionSuiteKit,
} from './kit.js'
import { lockTests } from './lock.js'
import { logIdChangeTests } from './log-id-change.js'
import { lossTests } from './loss.js'
import { parkedTests } from './parked.js'
import { readerTests } from './reader.js'
import { rebuildTests } from './rebuild.js'
import { restartTests } from './restart.js'
import { versionChangeTests } from './version-change.js'
import { waitForTests } from './wait-for.js'

/**
 * Every group of the projection-store suite by name; each is also exported on its own (e.g.
 * `catchUpTests`) and runnable alone with {@link runProjectionStoreGroup}.
 *
 * @example
 * ```ts
 * Object.keys(projectionStoreGroups) // ['catchUp', 'initialize', ...]
 * ```
 */
export const projectionStoreGroups: {
  readonly [G in ProjectionStoreGroup]: <Conn>(kit: ProjectionSuiteKit<Conn>) => void
} = {
  catchUp: catchUpTests,
  initialize: initializeTests,
  atomicity: atomicityTests,
  checkpointSwap: checkpointSwapTests,
  restart: restartTests,
  versionChange: versionChangeTests,
  logIdChange: logIdChangeTests,
  beyondHead: beyondHeadTests,
  buildBeside: buildBesideTests,
  rebuild: rebuildTests,
  failureIsolation: failureIsolationTests,
  parked: parkedTests,
  waitFor: waitForTests,
  reader: readerTests,
  externalRequests: externalRequestsTests,
  loss: lossTests,
  lock: lockTests,
}

function checkSkips(options: ProjectionStoreSuiteOptions<unknown>): void {
  for (const group of Object.keys(options.skip ?? {})) {
    if (!ALL_GROUPS.includes(group as ProjectionStoreGroup)) {
      throw new Error(`runProjectionStoreSuite: unknown group ${group}`)
    }
  }
}

function defineGroups<Conn>(
  options: ProjectionStoreSuiteOptions<Conn>,
  groups: readonly ProjectionStoreGroup[],
): void {
  checkSkips(options as ProjectionStoreSuiteOptions<unknown>)
  describe(`projection store conformance: ${options.name}`, () => {
    const kit = createProjectionSuiteKit(options, useSuiteContext())
    for (const group of groups) {
      const { title, skipped } = groupTitle(group, options.skip)
      const body = (): void => projectionStoreGroups[group](kit)
      if (skipped) describe.skip(title, body)
      else describe(title, body)
    }
  })
}

/**
 * Defines the projection-store conformance tests (vitest `describe`/`it`) for a
 * {@link ProjectionStore} adapter: the slot API directly (initialize, atomic commit with a
 * checkpoint compare-and-swap, parked events, build beside and swap, discard, durability over a
 * reopen) and the adapter under a real `Collector` (catch-up, restart without replay, rebuilds on
 * version, log-id and head changes, failure isolation with every `onError` policy, `waitFor`).
 * A store that claims a capability (`buildBeside`, `externalRequests`, `detectsLoss`) without the
 * method behind it fails.
 *
 * @example
 * ```ts
 * // sqlite-store.suite.test.ts
 * import { runProjectionStoreSuite, sqliteFixture } from '@eskit/store-test-suite'
 * runProjectionStoreSuite({
 *   name: 'sqliteStore',
 *   createStore: (location) => sqliteStore({ dir: location }),
 *   fixture: sqliteFixture,
 * })
 * ```
 */
export function runProjectionStoreSuite<Conn>(options: ProjectionStoreSuiteOptions<Conn>): void {
  defineGroups(options, ALL_GROUPS)
}

/**
 * Defines one group of the projection-store suite (or a few), for a store that runs them apart.
 *
 * @example
 * ```ts
 * runProjectionStoreGroup(['atomicity', 'checkpointSwap'], { name: 'myStore', createStore, fixture })
 * ```
 */
export function runProjectionStoreGroup<Conn>(
  groups: ProjectionStoreGroup | readonly ProjectionStoreGroup[],
  options: ProjectionStoreSuiteOptions<Conn>,
): void {
  defineGroups(options, typeof groups === 'string' ? [groups] : groups)
}

export type { ProjectionStoreGroup, ProjectionStoreSuiteOptions, ProjectionSuiteKit } from './kit.js'
export {
  atomicityTests,
  beyondHeadTests,
  buildBesideTests,
  catchUpTests,
  checkpointSwapTests,
  externalRequestsTests,
  failureIsolationTests,
  initializeTests,
  lockTests,
  logIdChangeTests,
  lossTests,
  parkedTests,
  readerTests,
  rebuildTests,
  restartTests,
  versionChangeTests,
  waitForTests,
}

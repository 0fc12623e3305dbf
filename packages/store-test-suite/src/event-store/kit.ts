import type { EventStore, NewEvent } from '@eskit/core'
import type { SuiteContext } from '../suite-context.js'

/**
 * The groups of {@link runEventStoreSuite}; name one in `skip` to switch it off.
 *
 * @example
 * ```ts
 * const group: EventStoreGroup = 'onAppend'
 * runEventStoreSuite({ name: 'remote log', create, skip: { [group]: 'appends by other nodes only' } })
 * ```
 */
export type EventStoreGroup =
  | 'ordering'
  | 'expectedVersion'
  | 'typeFilter'
  | 'readStream'
  | 'onAppend'
  | 'validation'
  | 'close'
  | 'workerSource'
  | 'readPage'

/**
 * Options of {@link runEventStoreSuite}.
 *
 * @example
 * ```ts
 * const options: EventStoreSuiteOptions = {
 *   name: 'my log',
 *   create: (location) => openMyLog(`${location}/log`),
 * }
 * runEventStoreSuite(options)
 * ```
 */
export interface EventStoreSuiteOptions {
  /** Shown in the test titles. */
  name: string
  /**
   * Creates a store over `location` (a fresh temp directory per test). Called twice with the
   * same location, it must give a store over the same data (a restart).
   */
  create(location: string): EventStore | Promise<EventStore>
  /** Groups the store cannot support, each with the reason (shown in the skipped title). */
  skip?: Partial<Record<EventStoreGroup, string>>
}

export const ALL_GROUPS: readonly EventStoreGroup[] = [
  'ordering',
  'expectedVersion',
  'typeFilter',
  'readStream',
  'onAppend',
  'validation',
  'close',
  'workerSource',
  'readPage',
]

/** What every group of the event-store suite uses: the options, the test's context and helpers. */
export function createEventStoreSuiteKit(options: EventStoreSuiteOptions, context: () => SuiteContext) {
  /** A store over the test's location (the same data when opened again), closed after the test. */
  const open = async (ctx: SuiteContext = context()): Promise<EventStore> => {
    const store = await options.create(ctx.location)
    ctx.defer(() => store.close())
    return store
  }
  return { options, context, open, ev, cyclic }
}

/** The kit handed to each group (see {@link createEventStoreSuiteKit}). */
export type EventStoreSuiteKit = ReturnType<typeof createEventStoreSuiteKit>

function ev(type: string, n: number): NewEvent {
  return { type, data: { n } }
}

function cyclic(): unknown {
  const value: Record<string, unknown> = { a: 1 }
  value.self = value
  return value
}

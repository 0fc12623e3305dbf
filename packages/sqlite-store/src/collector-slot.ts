import type { ProjectionSlot } from '@eskit/core'
import type { FileSlot } from './file-slot.js'

/**
 * What the collector gets of a live file slot: the slot contract only. The store's own controls
 * (`connection`, `detach`, `attach`, `retire`, `markSuspect`) stay with the store.
 */
export function collectorSlot(slot: FileSlot): ProjectionSlot {
  return {
    name: slot.name,
    state: () => slot.state(),
    initialize: (init) => slot.initialize(init),
    commit: (batch) => slot.commit(batch),
    parked: () => slot.parked(),
    check: () => slot.check(),
    close: () => slot.close(),
  }
}

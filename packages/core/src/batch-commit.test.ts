import { describe, expect, it } from 'vitest'
import { assertBatchCommit } from './batch-commit.js'
import type { StoredEvent } from './event.js'
import type { BatchCommit } from './projection-store.js'

const at = (position: number): StoredEvent => ({
  position,
  streamId: 's',
  streamVersion: position,
  type: 'T',
  data: null,
  recordedAt: new Date(0),
})

describe('assertBatchCommit', () => {
  it('accepts well-formed batches, empty ones included', () => {
    for (const batch of [
      { from: 0, to: 0, events: [] },
      { from: 0, to: 9, events: [] },
      { from: 2, to: 5, events: [at(3), at(5)] },
      {
        from: 2,
        to: 4,
        events: [],
        parked: [
          { position: 4, streamId: 's', type: 'T', error: 'e', attempts: 1, parkedAt: '', event: at(4) },
        ],
      },
    ]) {
      expect(() => assertBatchCommit(batch)).not.toThrow()
    }
  })

  it('refuses malformed batches with INVALID_ARGUMENT', () => {
    const bad: unknown[] = [
      null,
      { from: -1, to: 0, events: [] },
      { from: 1.5, to: 2, events: [] },
      { from: 3, to: 2, events: [] },
      { from: 0, to: 2, events: 'x' },
      { from: 0, to: 5, events: [at(2), at(2)] },
      { from: 0, to: 5, events: [at(3), at(1)] },
      { from: 2, to: 5, events: [at(2)] },
      { from: 0, to: 5, events: [at(6)] },
      { from: 0, to: 5, events: [], parked: [{ position: 6 }] },
      { from: 0, to: 5, events: [], parked: 'x' },
    ]
    for (const batch of bad) {
      expect(() => assertBatchCommit(batch as BatchCommit)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      )
    }
  })
})

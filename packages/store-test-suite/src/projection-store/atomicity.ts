import { isEskitError } from '@eskit/core'
import { expect, it } from 'vitest'
import { createProbe, expectedRows, type Probe } from '../suite-projections.js'
import type { ProjectionSuiteKit } from './kit.js'

/** The `atomicity` group of the projection-store conformance suite. */
export function atomicityTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, project, sample, LOG_ID } = kit
  const failures: Array<[string, (probe: Probe) => void, (error: unknown) => void]> = [
    [
      'throws an Error',
      (probe) => {
        probe.throwOn = (event) => (event.position === 6 ? new Error('apply broke at 6') : undefined)
      },
      (cause) => expect((cause as Error).message).toBe('apply broke at 6'),
    ],
    [
      'rejects',
      (probe) => {
        probe.async = true
        probe.throwOn = (event) => (event.position === 6 ? new Error('apply rejected at 6') : undefined)
      },
      (cause) => expect((cause as Error).message).toBe('apply rejected at 6'),
    ],
    [
      'throws a non-Error value',
      (probe) => {
        probe.throwOn = (event) => (event.position === 6 ? 'a plain string' : undefined)
      },
      (cause) => expect(cause).toBe('a plain string'),
    ],
  ]
  for (const [how, arrange, checkCause] of failures) {
    it(`a batch whose apply ${how} mid-batch leaves no row and no checkpoint move`, async () => {
      const t = env()
      const store = await t.openStore()
      const all = await sample(t.events(), 8)
      const probe = createProbe()
      const slot = await store.openSlot(project('suite.atomic', 'atomic_rows', { probe }))
      await slot.initialize({ version: '1', logId: LOG_ID })
      await slot.commit({ from: 0, to: 3, events: all.slice(0, 3) })
      arrange(probe)
      const error = await slot.commit({ from: 3, to: 8, events: all.slice(3, 8) }).catch((e) => e)
      expect(isEskitError(error, 'PROJECTION_FAILED')).toBe(true)
      checkCause(error.cause)
      expect((await slot.state())?.position).toBe(3)
      expect(await t.rows(store, 'suite.atomic', 'atomic_rows')).toEqual(expectedRows('1', all.slice(0, 3)))
      // the same batch goes through once the projection is fixed: nothing of the failed try remained
      probe.throwOn = undefined
      await slot.commit({ from: 3, to: 8, events: all.slice(3, 8) })
      expect((await slot.state())?.position).toBe(8)
      expect(await t.rows(store, 'suite.atomic', 'atomic_rows')).toEqual(expectedRows('1', all))
    })
  }
}

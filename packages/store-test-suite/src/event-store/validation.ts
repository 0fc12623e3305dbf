import { isEskitError, type NewEvent } from '@eskit/core'
import { expect, it } from 'vitest'
import type { EventStoreSuiteKit } from './kit.js'

/** The `validation` group of the event-store conformance suite. */
export function validationTests(kit: EventStoreSuiteKit): void {
  const { open, ev, cyclic } = kit
  const bad: Array<[string, unknown]> = [
    ['an empty array', []],
    ['an empty type', [{ type: '', data: {} }]],
    ['a missing type', [{ data: {} }]],
    ['undefined data', [{ type: 'T', data: undefined }]],
    ['a function in data', [{ type: 'T', data: { f: () => 1 } }]],
    ['a BigInt in data', [{ type: 'T', data: { n: 1n } }]],
    ['a cycle in data', [{ type: 'T', data: cyclic() }]],
    ['NaN in data', [{ type: 'T', data: { n: Number.NaN } }]],
    ['non-object metadata', [{ type: 'T', data: {}, metadata: 'x' }]],
    [
      'a bad event after a good one',
      [
        { type: 'T', data: {} },
        { type: 'T', data: { f: () => 1 } },
      ],
    ],
  ]
  for (const [what, input] of bad) {
    it(`refuses ${what} with INVALID_EVENT and writes nothing`, async () => {
      const events = await open()
      await events.append('a', [ev('T', 1)])
      const error = await events.append('a', input as NewEvent[]).catch((e) => e)
      expect(isEskitError(error, 'INVALID_EVENT')).toBe(true)
      expect(await events.head()).toBe(1)
      expect((await events.readStream('a')).length).toBe(1)
    })
  }

  it('refuses an empty stream id with INVALID_EVENT', async () => {
    const events = await open()
    const error = await events.append('', [ev('T', 1)]).catch((e) => e)
    expect(isEskitError(error, 'INVALID_EVENT')).toBe(true)
    expect(await events.head()).toBe(0)
  })
}

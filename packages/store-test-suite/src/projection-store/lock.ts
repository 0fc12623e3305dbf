import { isEskitError } from '@eskit/core'
import { expect, it } from 'vitest'
import type { ProjectionSuiteKit } from './kit.js'

/** The `lock` group of the projection-store conformance suite. */
export function lockTests<Conn>(kit: ProjectionSuiteKit<Conn>): void {
  const { env, logger, LOG_ID } = kit
  it('a second store over the same location gets LOCKED until the first is closed', async () => {
    const t = env()
    const first = await t.openStore()
    const second = await t.store()
    const error = await second.open({ logId: LOG_ID, logger }).catch((e) => e)
    expect(isEskitError(error, 'LOCKED')).toBe(true)
    await first.close()
    const third = await t.store()
    await third.open({ logId: LOG_ID, logger })
  })
}

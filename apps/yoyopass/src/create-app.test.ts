import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { silentLogger } from '@eskit/core'
import { afterEach, describe, expect, it } from 'vitest'
import { createApp } from './create-app.ts'

const dirs: string[] = []

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

async function json(res: Response): Promise<any> {
  return JSON.parse(await res.text())
}

describe('createApp', () => {
  it('wires the standard layout, and the other store answers the same after a switch', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
    dirs.push(dataDir)
    const post = (
      app: { request: (url: string, init: RequestInit) => Response | Promise<Response> },
      url: string,
      body: unknown,
    ) =>
      app.request(url, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      })

    const files = await createApp({ store: 'files', dataDir, logger: silentLogger })
    expect(files.collector.store.kind).toBe('sqlite-files')
    await post(files.app, '/services', { serviceId: 'zoo', name: 'Riverside Zoo', gates: ['main'] })
    await post(files.app, '/passes', { passId: 'z-1', serviceId: 'zoo', holder: 'Hedy Lamarr' })
    const fromFiles = await json(await files.app.request('/passes/z-1?consistent=true'))
    await files.close()
    await files.close()
    expect(
      fs
        .readdirSync(path.join(dataDir, 'projections'))
        .filter((f) => f.endsWith('.db'))
        .sort(),
    ).toEqual([
      'passes.pass_view.db',
      'scanning.daily_stats.db',
      'scanning.scan_log.db',
      'services.service_list.db',
    ])

    const shared = await createApp({ store: 'shared', dataDir, logger: silentLogger })
    expect(shared.collector.store.kind).toBe('sqlite-shared')
    const fromShared = await json(await shared.app.request('/passes/z-1?consistent=true'))
    await shared.close()
    expect(fs.existsSync(path.join(dataDir, 'shared.db'))).toBe(true)
    expect(fromShared).toEqual(fromFiles)
    expect(fromFiles).toMatchObject({
      passId: 'z-1',
      serviceId: 'zoo',
      holder: 'Hedy Lamarr',
      status: 'active',
    })
  })
})

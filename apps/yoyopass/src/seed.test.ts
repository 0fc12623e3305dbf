import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { StoredEvent } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { afterEach, describe, expect, it } from 'vitest'
import type { YoyoEvent } from './events.ts'
import { seed } from './seed.ts'
import { startTestApp, type TestApp } from './test-support.ts'

const dirs: string[] = []
const apps: TestApp[] = []

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.dispose()))
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

const NOW = new Date('2026-06-30T12:00:00Z')

async function seededLog(passes: number, seedValue: number): Promise<StoredEvent[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-'))
  dirs.push(dir)
  const events = openSqliteEventStore({ path: path.join(dir, 'events.db') })
  try {
    await seed(events, { passes, seed: seedValue, now: NOW })
    return await events.readAll({ after: 0, limit: 100_000 })
  } finally {
    await events.close()
  }
}

describe('seed', () => {
  it('is reproducible for a seed and writes consistent streams', async () => {
    const strip = (log: StoredEvent[]) =>
      log.map(({ type, data, streamId, streamVersion }) => ({ type, data, streamId, streamVersion }))
    const a = await seededLog(120, 7)
    const b = await seededLog(120, 7)
    expect(strip(a)).toEqual(strip(b))

    const events = a as unknown as Array<StoredEvent & YoyoEvent>
    const issued = events.filter((e) => e.type === 'PassIssued')
    expect(issued).toHaveLength(120)
    expect(events.filter((e) => e.type === 'ServiceCreated')).toHaveLength(3)
    // Every scan of a revoked pass after its revocation is denied; no scan precedes its issue.
    const revokedAt = new Map<string, string>()
    const issuedAt = new Map(issued.map((e) => [e.data.passId, e.data.at]))
    for (const event of events) {
      if (event.type === 'PassRevoked') revokedAt.set(event.data.passId, event.data.at)
      if (event.type === 'PassScanned') {
        expect(event.data.at >= (issuedAt.get(event.data.passId) ?? '')).toBe(true)
        if (revokedAt.has(event.data.passId))
          expect(event.data).toMatchObject({ result: 'denied', reason: 'revoked' })
      }
    }
    expect(events.some((e) => e.type === 'PassScanned' && e.data.result === 'accepted')).toBe(true)
  })

  it('adds passes on a second run and the projections agree with the log', async () => {
    const t = await startTestApp()
    apps.push(t)
    const progress: number[] = []
    const first = await seed(t.events, { passes: 50, now: NOW, onProgress: (done) => progress.push(done) })
    const second = await seed(t.events, { passes: 30, now: NOW })
    expect(progress).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(first).toMatchObject({ services: 3, passes: 50 })
    expect(second).toMatchObject({ services: 0, passes: 30 })
    expect(second.position).toBe(await t.events.head())

    const log = (await t.events.readAll({ after: 0, limit: 100_000 })) as unknown as Array<
      StoredEvent & YoyoEvent
    >
    const scans = log.filter((e) => e.type === 'PassScanned')
    const services = (await t.call('GET', '/services?consistent=true')).body.services as Array<{
      passesIssued: number
      scans: number
    }>
    expect(services.reduce((n, s) => n + s.passesIssued, 0)).toBe(80)
    expect(services.reduce((n, s) => n + s.scans, 0)).toBe(scans.length)
    const stats = (await t.call('GET', '/stats/daily?consistent=true')).body.totals
    expect(stats).toEqual({
      issued: 80,
      scans: scans.length,
      accepted: scans.filter((e) => e.data.result === 'accepted').length,
      denied: scans.filter((e) => e.data.result === 'denied').length,
    })
    const scanLog = (await t.call('GET', '/scans?limit=1000&consistent=true')).body.scans as Array<{
      position: number
    }>
    expect(scanLog.map((s) => s.position)).toEqual(scans.map((e) => e.position).reverse())
  })
})

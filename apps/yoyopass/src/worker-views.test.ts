import fs from 'node:fs'
import path from 'node:path'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { dumpProjectionFile, eventually, recordingLogger, tempDir } from '@eskit/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { dataPaths } from './config.ts'
import { createApp } from './create-app.ts'
import { seed } from './seed.ts'
import { createViews, VIEW_NAMES } from './views/index.ts'
import { versionsOf, WORKER_VIEWS_MODULE, workerViewsModule } from './views/worker-module.ts'

const cleanups: Array<() => void> = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** A data directory whose log holds about 2,000 events and no projection file yet. */
async function seededData(): Promise<string> {
  const { dir, cleanup } = tempDir('yoyopass-workers-')
  cleanups.push(cleanup)
  fs.mkdirSync(dir, { recursive: true })
  const events = openSqliteEventStore({ path: dataPaths(dir).events })
  await seed(events, { passes: 400, now: new Date('2026-06-01T00:00:00Z') })
  await events.close()
  return dir
}

describe('the views in build worker threads', () => {
  it('each view names its export of the worker module, whose URL carries the version overrides', async () => {
    expect(WORKER_VIEWS_MODULE).toBe(new URL('./worker-views.ts', import.meta.url).href)
    const views = createViews({ 'passes.pass_view': '2' })
    const module = workerViewsModule({ 'passes.pass_view': '2' })
    expect(module).toBe(`${WORKER_VIEWS_MODULE}?passes.pass_view=2`)
    expect(views.all.map((view) => view.source)).toEqual([
      { module, export: 'serviceList' },
      { module, export: 'passView' },
      { module, export: 'scanLog' },
      { module, export: 'dailyStats' },
    ])
    expect(versionsOf(module)).toEqual({ 'passes.pass_view': '2' })
    // without overrides the URL is the module's own, and its exports are the same views
    const plain = createViews()
    expect(plain.passView.source?.module).toBe(WORKER_VIEWS_MODULE)
    const loaded = (await import(WORKER_VIEWS_MODULE)) as Record<string, { name: string; version: string }>
    for (const view of plain.all) {
      const exported = loaded[view.source?.export ?? '']
      expect([exported?.name, exported?.version]).toEqual([view.name, view.version])
    }
  })

  it('builds the four views in workers, with a version override, to the dumps of a main-thread build', async () => {
    const dir = await seededData()
    const other = tempDir('yoyopass-serial-')
    cleanups.push(other.cleanup)
    fs.copyFileSync(dataPaths(dir).events, dataPaths(other.dir).events)
    const viewVersions = { 'scanning.daily_stats': '3' }
    const build = async (dataDir: string, buildWorkers: number) => {
      const logger = recordingLogger()
      const app = await createApp({ store: 'files', dataDir, logger, buildWorkers, viewVersions })
      try {
        await app.collector.waitFor(await app.events.head(), { timeoutMs: 30_000 })
        await eventually(() => app.collector.status().every((s) => s.state === 'live'), {
          what: 'every view swapped in',
          timeoutMs: 30_000,
        })
        expect(app.collector.status().find((s) => s.name === 'scanning.daily_stats')?.version).toMatch(/^3\+/)
      } finally {
        await app.close()
      }
      return logger
    }

    const parallel = await build(dir, 4)
    // every build went to a worker, which loaded the view at the overridden version
    for (const name of VIEW_NAMES) {
      expect(parallel.find('debug', 'lent to a worker').filter((l) => l.fields?.name === name)).toHaveLength(
        1,
      )
      expect(
        parallel.find('debug', 'reached its target').filter((l) => l.fields?.name === name),
      ).toHaveLength(1)
    }
    expect(parallel.find('info', 'builds on the main thread')).toEqual([])
    expect(parallel.find('warn', 'worker')).toEqual([])

    const serial = await build(other.dir, 0)
    expect(serial.find('debug', 'lent to a worker')).toEqual([])
    for (const name of VIEW_NAMES) {
      const file = (root: string) => path.join(dataPaths(root).projections, `${name}.db`)
      const expected = dumpProjectionFile(file(other.dir))
      expect(expected.rows, name).toBeGreaterThan(0)
      expect(dumpProjectionFile(file(dir)).sha256, name).toBe(expected.sha256)
    }
  })
})

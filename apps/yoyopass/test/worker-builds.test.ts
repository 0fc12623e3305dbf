import fs from 'node:fs'
import path from 'node:path'
import { dumpProjectionFile, tempDir } from '@eskit/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { VIEW_NAMES } from '../src/views/index.ts'
import { runYoyopass, startYoyopass, untilLive, type YoyopassProcess } from './yoyopass-process.ts'

const running: YoyopassProcess[] = []
const cleanups: Array<() => void> = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** Log lines (stderr) whose message is `message`, with their fields. */
function logLines(stderr: string, message: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = []
  for (const line of stderr.split('\n')) {
    const at = line.indexOf(` ${message} {`)
    if (at >= 0) lines.push(JSON.parse(line.slice(at + message.length + 2)))
  }
  return lines
}

/** Serves `dir` until every view is live at `head`, stops, and returns what it logged. */
async function firstBuild(dir: string, head: number, buildWorkers: string): Promise<string> {
  const app = await startYoyopass([
    'serve',
    '--port',
    '0',
    '--data',
    dir,
    '--log-level',
    'debug',
    '--build-workers',
    buildWorkers,
    '--view-version',
    'passes.pass_view=2',
  ])
  running.push(app)
  const statuses = await untilLive(app.url, head)
  expect(statuses.find((s) => s.name === 'passes.pass_view')?.version).toMatch(/^2\+/)
  expect(await app.stop()).toBe(0)
  running.splice(running.indexOf(app), 1)
  return app.stderr()
}

describe('first start of the built app (dist) in build worker threads', () => {
  it('builds the four views in workers, to the same dumps as a main-thread build', async () => {
    const parallel = tempDir('yoyopass-workers-')
    const serial = tempDir('yoyopass-serial-')
    cleanups.push(parallel.cleanup, serial.cleanup)
    const seeded = await runYoyopass(['seed', '--data', parallel.dir, '--passes', '400'])
    expect(seeded.code).toBe(0)
    const head = Number(/log position (\d+)/.exec(seeded.stdout)?.[1])
    // more than a batch (1,000 events): a shorter build stays on the main thread
    expect(head).toBeGreaterThan(1_500)
    fs.copyFileSync(path.join(parallel.dir, 'events.db'), path.join(serial.dir, 'events.db'))

    const inWorkers = await firstBuild(parallel.dir, head, '4')
    // dist/worker-views.mjs loaded in each worker, at the overridden version: no fallback, no failure
    expect(logLines(inWorkers, 'projection builds on the main thread')).toEqual([])
    expect(inWorkers).not.toMatch(/ (warn|error) .*worker/)
    const lent = logLines(inWorkers, 'projection build lent to a worker')
    expect(lent.map((fields) => [fields.name, fields.from]).sort()).toEqual(
      [...VIEW_NAMES].sort().map((name) => [name, 0]),
    )
    const done = logLines(inWorkers, 'build worker reached its target')
    expect(done.map((fields) => [fields.name, fields.position]).sort()).toEqual(
      [...VIEW_NAMES].sort().map((name) => [name, head]),
    )

    const onMain = await firstBuild(serial.dir, head, '0')
    expect(logLines(onMain, 'projection build lent to a worker')).toEqual([])
    for (const name of VIEW_NAMES) {
      const file = (dir: string) => path.join(dir, 'projections', `${name}.db`)
      const expected = dumpProjectionFile(file(serial.dir))
      expect(expected.rows, name).toBeGreaterThan(0)
      expect(dumpProjectionFile(file(parallel.dir)).sha256, name).toBe(expected.sha256)
    }
  })
})

import fs from 'node:fs'
import path from 'node:path'
import { readProjectionFile } from '@eskit/sqlite-store'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MigrateOutcome } from '../src/migrate-command.js'
import type { StatusReport } from '../src/status-command.js'
import { query, runEskit, runOwnerOnce, snapshot, tempDir } from './helpers.js'

const NAMES = ['passes.pass_view', 'scanning.scan_log', 'services.holder_list']

describe('eskit migrate (the real binary)', () => {
  let root: string
  let shared: string
  let dir: string
  let cleanup: () => void
  beforeEach(async () => {
    ;({ dir: root, cleanup } = tempDir())
    shared = path.join(root, 'app.db')
    dir = path.join(root, 'projections')
    // a shared database built by a real collector on sharedStore
    await runOwnerOnce(shared, ['--shared', '--passes', '400'])
  })
  afterEach(() => cleanup())

  it('moves every projection into its own file with progress and a report; the next start replays nothing', async () => {
    const source = snapshot(root)['app.db']
    const result = await runEskit(['migrate', '--from', shared, '--dir', dir])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`migrated 3 projections from ${shared} to ${dir}: [\\d,]+ rows`))
    expect(result.stdout).toMatch(/NAME\s+POSITION\s+ROWS\s+SIZE\s+TABLES/)
    expect(result.stdout).toMatch(/passes\.pass_view\s+1,200\s+400\s+.*passes/)
    expect(result.stdout).toMatch(/scanning\.scan_log\s+1,200\s+800\s+.*scans/)
    // progress, as plain lines (not a terminal)
    expect(result.stderr).toMatch(/migrating: [\d,]+\/[\d,]+ rows \(100%\)/)
    // the source is only read
    expect(snapshot(root)['app.db']).toEqual(source)

    for (const name of NAMES) {
      expect(readProjectionFile(path.join(dir, `${name}.db`))).toMatchObject({
        version: '1',
        position: 1200,
        logId: 'fixture-log-0001',
        problem: null,
      })
    }
    expect(
      query<{ n: number }>(path.join(dir, 'passes.pass_view.db'), 'select count(*) n from passes').n,
    ).toBe(400)

    // the application on sqliteStore over the same log continues from the copied checkpoints
    const builtAt = readProjectionFile(path.join(dir, 'passes.pass_view.db')).builtAt
    const run = await runOwnerOnce(dir, ['--passes', '400'])
    expect(run.rebuilt).toEqual([])
    expect(readProjectionFile(path.join(dir, 'passes.pass_view.db')).builtAt).toBe(builtAt)

    const status = JSON.parse((await runEskit(['status', '--dir', dir, '--json'])).stdout) as StatusReport
    expect(status.projections.map((p) => [p.name, p.position])).toEqual(NAMES.map((name) => [name, 1200]))
  })

  it('prints the report as JSON with --json', async () => {
    const result = await runEskit(['migrate', '--from', shared, '--dir', dir, '--json'])
    expect(result.code).toBe(0)
    const outcome = JSON.parse(result.stdout) as MigrateOutcome
    expect(outcome.from).toBe(shared)
    expect(outcome.dir).toBe(dir)
    expect(outcome.projections.map((p) => [p.name, p.position, p.rows, p.skipped])).toEqual([
      ['passes.pass_view', 1200, 400, false],
      ['scanning.scan_log', 1200, 800, false],
      ['services.holder_list', 1200, 17, false],
    ])
    expect(outcome.totalRows).toBe(1217)
    expect(outcome.projections.find((p) => p.name === 'passes.pass_view')?.tables).toEqual(['passes'])
  })

  it('refuses to overwrite existing files (exit 1, nothing changed) unless --resume keeps complete ones', async () => {
    expect((await runEskit(['migrate', '--from', shared, '--dir', dir])).code).toBe(0)
    const before = snapshot(dir)
    const again = await runEskit(['migrate', '--from', shared, '--dir', dir])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/error INVALID_STATE: /)
    expect(snapshot(dir)).toEqual(before)

    const resumed = await runEskit(['migrate', '--from', shared, '--dir', dir, '--resume', '--json'])
    expect(resumed.code).toBe(0)
    const outcome = JSON.parse(resumed.stdout) as MigrateOutcome
    expect(outcome.projections.every((p) => p.skipped)).toBe(true)
    for (const name of NAMES) expect(snapshot(dir)[`${name}.db`]).toEqual(before[`${name}.db`])
  })

  it('fails with exit 1 for a missing or non-eskit source, creating no directory', async () => {
    const missing = await runEskit(['migrate', '--from', path.join(root, 'nope.db'), '--dir', dir])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/NOT_FOUND: shared database .*nope\.db does not exist/)
    fs.writeFileSync(path.join(root, 'text.db'), 'just text')
    const foreign = await runEskit(['migrate', '--from', path.join(root, 'text.db'), '--dir', dir, '--json'])
    expect(foreign.code).toBe(1)
    expect((JSON.parse(foreign.stdout) as { error: { code: string } }).error.code).toMatch(/CORRUPT|IO/)
    expect(fs.existsSync(dir)).toBe(false)
  })

  it('exits 2 when --from or --dir is missing', async () => {
    expect((await runEskit(['migrate', '--dir', dir])).code).toBe(2)
    expect((await runEskit(['migrate', '--from', shared])).code).toBe(2)
    expect(fs.existsSync(dir)).toBe(false)
  })
})

import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { StatusReport } from '../src/status-command.js'
import { runEskit, runOwnerOnce, snapshot, startOwner, tempDir } from './helpers.js'

const NAMES = ['passes.pass_view', 'scanning.scan_log', 'services.holder_list']

describe('eskit status (the real binary)', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => {
    ;({ dir, cleanup } = tempDir())
  })
  afterEach(() => cleanup())

  it('lists every projection file a real collector built, with version, position, log id, size and build time', async () => {
    const projections = path.join(dir, 'projections')
    const run = await runOwnerOnce(projections, ['--passes', '300'])
    expect(run.head).toBe(900)

    const json = await runEskit(['status', '--dir', projections, '--json'])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout) as StatusReport
    expect(report.dir).toBe(projections)
    expect(report.owned).toBe(false)
    expect(report.owner).toBeNull()
    expect(report.projections.map((p) => p.name)).toEqual(NAMES)
    for (const p of report.projections) {
      expect(p).toMatchObject({
        version: '1',
        position: 900,
        logId: 'fixture-log-0001',
        formatVersion: 1,
        problem: null,
      })
      expect(p.runtime).toBeNull()
      expect(p.file).toBe(path.join(projections, `${p.name}.db`))
      expect(p.sizeBytes).toBe(fs.statSync(path.join(projections, `${p.name}.db`)).size)
      expect(Date.parse(p.builtAt ?? '')).toBeGreaterThan(Date.now() - 120_000)
    }

    const human = await runEskit(['status', '--dir', projections])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('not owned')
    expect(human.stdout).toContain('event log id: fixture-log-0001')
    expect(human.stdout).toMatch(/NAME\s+VERSION\s+POSITION\s+SIZE\s+BUILT/)
    for (const name of NAMES)
      expect(human.stdout).toMatch(new RegExp(`${name.replace('.', '\\.')}\\s+1\\s+900\\s`))
    // not a terminal: no colour codes
    expect(human.stdout).not.toContain('\u001b[')
  })

  it('opens the files read-only: bytes and mtimes unchanged, no -wal/-shm or other file created', async () => {
    const projections = path.join(dir, 'projections')
    await runOwnerOnce(projections, ['--passes', '100'])
    // a corrupt file and a foreign one are read too, and left exactly as they are
    fs.writeFileSync(path.join(projections, 'broken.db'), 'not a database at all, just text')
    fs.copyFileSync(path.join(projections, 'passes.pass_view.db'), path.join(projections, 'copy.db'))
    const before = snapshot(projections)

    for (const args of [['--json'], []]) {
      const result = await runEskit(['status', '--dir', projections, ...args])
      expect(result.code).toBe(0)
    }
    expect(snapshot(projections)).toEqual(before)
    expect(Object.keys(before).some((f) => f.endsWith('-wal') || f.endsWith('-shm'))).toBe(false)

    const report = JSON.parse(
      (await runEskit(['status', '--dir', projections, '--json'])).stdout,
    ) as StatusReport
    const broken = report.projections.find((p) => p.name === 'broken')
    expect(broken?.problem).toMatch(/not a SQLite database/)
    expect(broken?.version).toBeNull()
    const foreign = report.projections.find((p) => p.name === 'copy')
    expect(foreign?.problem).toMatch(/foreign file/)
    const human = await runEskit(['status', '--dir', projections])
    expect(human.stdout).toMatch(/problem: not a SQLite database/)
    expect(human.stdout).toMatch(/problem: foreign file: it holds projection "passes\.pass_view"/)
  })

  it('shows that a running process owns the directory, with its published state and lag', async () => {
    const projections = path.join(dir, 'projections')
    const owner = await startOwner(projections, ['--passes', '200'])
    try {
      // the owner is idle once live: reading its files read-only must leave them as they are
      const dbFiles = (): Record<string, unknown> =>
        Object.fromEntries(Object.entries(snapshot(projections)).filter(([f]) => /\.db(-wal)?$/.test(f)))
      const before = dbFiles()
      const json = await runEskit(['status', '--dir', projections, '--json'])
      expect(json.code).toBe(0)
      const report = JSON.parse(json.stdout) as StatusReport
      expect(report.owned).toBe(true)
      expect(report.owner?.pid).toBe(owner.pid)
      expect(report.projections.map((p) => p.name)).toEqual(NAMES)
      for (const p of report.projections) {
        expect(p.position).toBe(600)
        expect(p.runtime).toMatchObject({ name: p.name, state: 'live', position: 600, lag: 0 })
      }
      const human = await runEskit(['status', '--dir', projections])
      expect(human.stdout).toContain(`owned by a running process (pid ${owner.pid}`)
      expect(human.stdout).toMatch(/NAME\s+VERSION\s+STATE\s+POSITION\s+LAG/)
      expect(human.stdout).toMatch(/passes\.pass_view\s+1\s+live\s+600\s+0\s/)
      expect(dbFiles()).toEqual(before)
    } finally {
      await owner.stop()
    }
    const after = JSON.parse(
      (await runEskit(['status', '--dir', projections, '--json'])).stdout,
    ) as StatusReport
    expect(after.owned).toBe(false)
    expect(after.projections.every((p) => p.runtime === null)).toBe(true)
  })

  it('fails with exit 1 and NOT_FOUND for a directory that does not exist, creating nothing', async () => {
    const missing = path.join(dir, 'nope')
    const result = await runEskit(['status', '--dir', missing])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/NOT_FOUND: projection directory .*nope does not exist/)
    expect(fs.existsSync(missing)).toBe(false)
    const json = await runEskit(['status', '--dir', missing, '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } })
  })

  it('lists an empty directory as having no projection files', async () => {
    const result = await runEskit(['status', '--dir', dir])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('no projection files')
    expect(fs.readdirSync(dir)).toEqual([])
  })
})

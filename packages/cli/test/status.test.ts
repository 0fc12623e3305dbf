import fs from 'node:fs'
import path from 'node:path'
import { silentLogger } from '@eskit/core'
import { sqliteStore } from '@eskit/sqlite-store'
import Database from 'better-sqlite3'
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

  it('leaves every file of a running owner and of a SIGKILLed one as it was, -shm included', async () => {
    const projections = path.join(dir, 'projections')
    const owner = await startOwner(projections, ['--passes', '200'])
    let killed = false
    // The running owner rewrites its status file, and its own reads of the pass view (every 5 ms)
    // update that file's -shm: those two are its to change. Everything else is compared.
    const files = (owned: boolean) => {
      const {
        '.eskit/status.json': _published,
        'passes.pass_view.db-shm': readByOwner,
        ...rest
      } = snapshot(projections)
      return owned || readByOwner === undefined ? rest : { ...rest, 'passes.pass_view.db-shm': readByOwner }
    }
    try {
      const before = files(true)
      expect(Object.keys(before).filter((f) => f.endsWith('-shm'))).toHaveLength(2)
      for (const args of [['--json'], []])
        expect((await runEskit(['status', '--dir', projections, ...args])).code).toBe(0)
      expect(files(true)).toEqual(before)

      await owner.kill()
      killed = true
      const left = files(false)
      expect(Object.keys(left).filter((f) => f.endsWith('-wal') || f.endsWith('-shm'))).toHaveLength(6)
      const json = await runEskit(['status', '--dir', projections, '--json'])
      const report = JSON.parse(json.stdout) as StatusReport
      expect(report.owned).toBe(false)
      for (const p of report.projections)
        expect(p).toMatchObject({ position: 600, problem: null, built: true })
      expect((await runEskit(['status', '--dir', projections])).code).toBe(0)
      expect(files(false)).toEqual(left)
    } finally {
      if (!killed) await owner.stop()
    }
  })

  it('explains a file the owner does not run, and lists a first build whose setup failed as not built, no problem', async () => {
    const projections = path.join(dir, 'projections')
    await runOwnerOnce(projections, ['--passes', '20'])
    // a projection retired from the application, its file left behind
    fs.copyFileSync(
      path.join(projections, 'services.holder_list.db'),
      path.join(projections, 'legacy.view.db'),
    )
    const legacy = new Database(path.join(projections, 'legacy.view.db'))
    legacy.prepare("update _eskit_projection set name = 'legacy.view'").run()
    legacy.close()
    fs.writeFileSync(path.join(projections, 'zero.db'), '')
    const store = sqliteStore({ dir: projections })
    await store.open({ logId: 'fixture-log-0001', logger: silentLogger })
    const slot = await store.openSlot({
      name: 'failing.view',
      version: '1',
      setup() {
        throw new Error('no such column: holder')
      },
      apply() {},
    })
    await slot.initialize({ version: '1', logId: 'fixture-log-0001' }).catch(() => undefined)
    await store.close()

    const owner = await startOwner(projections, ['--passes', '20'])
    try {
      const report = JSON.parse(
        (await runEskit(['status', '--dir', projections, '--json'])).stdout,
      ) as StatusReport
      const byName = new Map(report.projections.map((p) => [p.name, p]))
      expect(byName.get('legacy.view')).toMatchObject({ orphan: true, runtime: null, problem: null })
      expect(byName.get('passes.pass_view')).toMatchObject({ orphan: false })
      for (const name of ['failing.view', 'zero'])
        expect(byName.get(name)).toMatchObject({ built: false, problem: null, orphan: true })
      const human = (await runEskit(['status', '--dir', projections])).stdout
      expect(human).not.toContain('problem')
      expect(human).toMatch(/legacy\.view\s+1\s+not run\s/)
      expect(human).toContain('eskit rebuild legacy.view is rejected while it owns the directory')
      expect(human).toContain('not built yet: the file holds no projection data')
    } finally {
      await owner.stop()
    }
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

import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { SnapshotReport } from '@eskit/sqlite-store'
import { readProjectionFile } from '@eskit/sqlite-store'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/run-cli.js'
import { query, runEskit, runOwnerOnce, startOwner, tempDir } from './helpers.js'
import { recordingIo } from './recording-io.js'

const NAMES = ['passes.pass_view', 'scanning.scan_log', 'services.holder_list']

const sha256 = (file: string): string =>
  `sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`

describe('eskit snapshot (the real binary)', () => {
  let root: string
  let dir: string
  let out: string
  let cleanup: () => void
  beforeEach(async () => {
    ;({ dir: root, cleanup } = tempDir())
    dir = path.join(root, 'node-a')
    out = path.join(root, 'node-c')
    await runOwnerOnce(dir, ['--passes', '400'])
  })
  afterEach(() => cleanup())

  it('copies every file while the owner runs and reads; a node started on the copies resumes at their checkpoints', async () => {
    const owner = await startOwner(dir, ['--passes', '400'])
    let stopped = false
    try {
      const result = await runEskit(['snapshot', '--dir', dir, '--out', out, '--json'])
      expect(result.code, result.stderr).toBe(0)
      const report = JSON.parse(result.stdout) as SnapshotReport
      expect(report).toMatchObject({ dir, out, owned: true, skipped: [] })
      expect(report.projections.map((p) => [p.name, p.position])).toEqual(NAMES.map((name) => [name, 1200]))
      for (const file of report.projections) {
        expect(file.bytes).toBe(fs.statSync(file.file).size)
        expect(file.checksum).toBe(sha256(file.file))
        expect(file.logId).toBe('fixture-log-0001')
      }
      // self-contained: only the projection files, none with a -wal beside it
      expect(fs.readdirSync(out).sort()).toEqual(NAMES.map((name) => `${name}.db`))
      // progress on stderr, as plain lines (not a terminal)
      expect(result.stderr).toMatch(/copying: [\d,]+\/[\d,]+ KB \(100%\), 3\/3 files/)

      const report2 = await owner.stop()
      stopped = true
      expect(report2.readErrors).toEqual([])
      expect(report2.reads).toBeGreaterThan(0)
    } finally {
      if (!stopped) await owner.kill()
    }

    // the same log, 100 passes (300 events) further: no rebuild, each file continues from 1,200
    const builtAt = NAMES.map((name) => readProjectionFile(path.join(out, `${name}.db`)).builtAt)
    const run = await runOwnerOnce(out, ['--passes', '500'])
    expect(run.rebuilt).toEqual([])
    NAMES.forEach((name, i) => {
      expect(readProjectionFile(path.join(out, `${name}.db`))).toMatchObject({
        position: 1500,
        builtAt: builtAt[i],
      })
    })
    expect(
      query<{ n: number }>(path.join(out, 'passes.pass_view.db'), 'select count(*) n from passes').n,
    ).toBe(500)
  })

  it('prints a table, copies only the named projections and refuses to overwrite (exit 1, ALREADY_EXISTS)', async () => {
    const result = await runEskit(['snapshot', 'passes.pass_view', '--dir', dir, '--out', out])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`copied 1 projection from ${dir} to ${out}: `))
    expect(result.stdout).toMatch(/NAME\s+VERSION\s+POSITION\s+SIZE\s+CHECKSUM/)
    expect(result.stdout).toMatch(/passes\.pass_view\s+1\s+1,200\s+.*sha256:[0-9a-f]{16}…/)
    expect(fs.readdirSync(out)).toEqual(['passes.pass_view.db'])
    const before = sha256(path.join(out, 'passes.pass_view.db'))

    const again = await runEskit(['snapshot', '--dir', dir, '--out', out, '--json'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/error ALREADY_EXISTS: .*passes\.pass_view\.db/)
    expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: 'ALREADY_EXISTS' } })
    // nothing replaced, nothing added
    expect(fs.readdirSync(out)).toEqual(['passes.pass_view.db'])
    expect(sha256(path.join(out, 'passes.pass_view.db'))).toBe(before)
  })

  it('usage errors exit 2 and touch nothing: no --out, an invalid name', async () => {
    const noOut = await runEskit(['snapshot', '--dir', dir])
    expect(noOut.code).toBe(2)
    expect(noOut.stderr).toMatch(/--out/)
    const invalid = await runEskit(['snapshot', '../x', '--dir', dir, '--out', out])
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toMatch(/INVALID_NAME/)
    expect(fs.existsSync(out)).toBe(false)
  })

  it('draws a progress bar on a terminal', async () => {
    const io = recordingIo({ tty: true, env: { NO_COLOR: '1' } })
    expect(await runCli(['snapshot', '--dir', dir, '--out', out], io)).toBe(0)
    expect(io.stderr.text).toMatch(/copying \[[█░]+\] 100% \| [\d,]+\/[\d,]+ KB \| 3\/3 files/)
    expect(io.stdout.text).toMatch(/copied 3 projections/)
  })
})

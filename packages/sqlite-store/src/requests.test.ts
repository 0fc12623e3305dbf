import fs from 'node:fs'
import path from 'node:path'
import { isEskitError } from '@eskit/core'
import { describe, expect, it } from 'vitest'
import { recordingLogger, tempDir } from '../test/support.js'
import { directoryLayout } from './layout.js'
import { readRequestResult, requestRebuild, takeRequestFiles, writeRequestResult } from './requests.js'

describe('rebuild requests', () => {
  it('a request is pending until taken, taken once, then followed through its result file', () => {
    const dir = tempDir()
    const first = requestRebuild(dir, 'passes.pass_view')
    const second = requestRebuild(dir, 'scans')
    expect(readRequestResult(dir, first)).toMatchObject({
      id: first,
      name: 'passes.pass_view',
      state: 'pending',
    })
    const logger = recordingLogger()
    expect(takeRequestFiles(dir, logger)).toEqual([
      { type: 'rebuild', id: first, name: 'passes.pass_view' },
      { type: 'rebuild', id: second, name: 'scans' },
    ])
    expect(takeRequestFiles(dir, logger)).toEqual([])
    expect(readRequestResult(dir, first)).toBeNull()
    writeRequestResult(dir, {
      id: first,
      name: 'passes.pass_view',
      state: 'done',
      position: 12,
      updatedAt: 'now',
    })
    expect(readRequestResult(dir, first)).toMatchObject({ state: 'done', position: 12 })
    expect(logger.lines).toEqual([])
  })

  it('refuses a bad name or a missing directory and writes nothing', () => {
    const dir = tempDir()
    for (const [args, code] of [
      [[dir, '../escape'], 'INVALID_NAME'],
      [[path.join(dir, 'missing'), 'ok'], 'NOT_FOUND'],
    ] as const) {
      let caught: unknown
      try {
        requestRebuild(args[0], args[1])
      } catch (error) {
        caught = error
      }
      expect(isEskitError(caught, code)).toBe(true)
    }
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it('ignores and removes garbage in the requests folder with a warning', () => {
    const dir = tempDir()
    const { requests } = directoryLayout(dir)
    const good = requestRebuild(dir, 'passes')
    fs.writeFileSync(path.join(requests, 'junk.json'), '{ not json')
    fs.writeFileSync(
      path.join(requests, 'mwudku17-1e00cd17c0aa.json'),
      JSON.stringify({ type: 'rebuild', id: 'mwudku17-1e00cd17c0aa', name: '../x' }),
    )
    fs.writeFileSync(path.join(requests, '.inflight.tmp'), 'being written')
    const logger = recordingLogger()
    expect(takeRequestFiles(dir, logger).map((r) => r.id)).toEqual([good])
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2)
    expect(fs.readdirSync(requests)).toEqual(['.inflight.tmp'])
  })

  it('an unknown or malformed id has no result', () => {
    const dir = tempDir()
    expect(readRequestResult(dir, 'mwudku17-000000000000')).toBeNull()
    expect(readRequestResult(dir, '../../etc/passwd')).toBeNull()
  })
})

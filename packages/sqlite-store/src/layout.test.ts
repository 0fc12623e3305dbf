import path from 'node:path'
import { isEskitError } from '@eskit/core'
import { describe, expect, it } from 'vitest'
import { directoryLayout, projectionFilePath, projectionNameOf } from './layout.js'

describe('layout', () => {
  it('puts a projection at {dir}/{name}.db and every helper under {dir}/.eskit', () => {
    expect(projectionFilePath('/data', 'passes.pass_view')).toBe(path.join('/data', 'passes.pass_view.db'))
    const layout = directoryLayout('/data')
    expect(layout).toEqual({
      dir: '/data',
      eskit: '/data/.eskit',
      lock: '/data/.eskit/owner.lock',
      builds: '/data/.eskit/builds',
      requests: '/data/.eskit/requests',
      results: '/data/.eskit/results',
      status: '/data/.eskit/status.json',
      quarantine: '/data/.eskit/quarantine',
    })
  })

  it('refuses names that could escape the directory, before building a path', () => {
    for (const bad of ['../x', 'a/b', '', '.hidden', 'a\\b', 'x'.repeat(129)]) {
      let caught: unknown
      try {
        projectionFilePath('/data', bad)
      } catch (error) {
        caught = error
      }
      expect(isEskitError(caught, 'INVALID_NAME')).toBe(true)
    }
  })

  it('recognises projection files and nothing else', () => {
    expect(projectionNameOf('passes.pass_view.db')).toBe('passes.pass_view')
    expect(projectionNameOf('passes.db-wal')).toBeNull()
    expect(projectionNameOf('passes.db-shm')).toBeNull()
    expect(projectionNameOf('.eskit')).toBeNull()
    expect(projectionNameOf('.hidden.db')).toBeNull()
    expect(projectionNameOf('notes.txt')).toBeNull()
  })
})

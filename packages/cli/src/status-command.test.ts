import pc from 'picocolors'
import { describe, expect, it } from 'vitest'
import { type ProjectionReport, renderStatus, type StatusReport } from './status-command.js'

const plain = pc.createColors(false)

function projection(name: string, overrides: Partial<ProjectionReport> = {}): ProjectionReport {
  return {
    name,
    file: `/data/projections/${name}.db`,
    sizeBytes: 2048,
    built: true,
    version: '1',
    position: 1200,
    logId: 'log-a',
    formatVersion: 1,
    builtAt: '2026-11-24T07:00:00.000Z',
    problem: null,
    runtime: null,
    orphan: false,
    ...overrides,
  }
}

const runtime = (name: string, extra: Partial<NonNullable<ProjectionReport['runtime']>> = {}) => ({
  name,
  version: '1',
  state: 'live' as const,
  position: 1200,
  head: 1200,
  lag: 0,
  ...extra,
})

describe('renderStatus', () => {
  it('says when the owner cannot read its event log, since when and why', () => {
    const logUnreachable = {
      since: Date.parse('2026-11-24T07:59:50.000Z'),
      error: 'could not read the event log: connect ECONNREFUSED 10.0.0.5:5432',
      code: 'UNAVAILABLE',
      attempts: 7,
    }
    const report: StatusReport = {
      dir: '/data/projections',
      owned: true,
      owner: { pid: 4242, updatedAt: '2026-11-24T08:00:00.000Z' },
      projections: [
        projection('passes.pass_view', { runtime: runtime('passes.pass_view', { logUnreachable }) }),
      ],
      builds: [],
      quarantined: [],
    }
    const text = renderStatus(report, plain, new Date('2026-11-24T08:00:02.500Z'))
    expect(text.split('\n').slice(0, 4)).toEqual([
      '/data/projections',
      'owned by a running process (pid 4242, status published 2.5s ago)',
      'event log id: log-a',
      'event log unreachable since 2026-11-24 07:59:50Z (12.5s, 7 attempts): UNAVAILABLE could not read the event log: connect ECONNREFUSED 10.0.0.5:5432; projections keep serving, reading resumes by itself',
    ])
    expect(text).toContain('passes.pass_view  1        live')
  })

  it('shows the owner, live state, a version built beside, rebuild progress, errors and builds', () => {
    const report: StatusReport = {
      dir: '/data/projections',
      owned: true,
      owner: { pid: 4242, updatedAt: '2026-11-24T08:00:00.000Z' },
      projections: [
        projection('passes.pass_view', {
          runtime: runtime('passes.pass_view', {
            version: '2',
            state: 'rebuilding',
            rebuild: {
              position: 300,
              target: 1200,
              eventsPerSecond: 51_200,
              etaMs: 3000,
              reason: 'version changed from 1 to 2',
            },
          }),
        }),
        projection('scanning.scan_log', {
          runtime: runtime('scanning.scan_log', {
            state: 'failed',
            position: 1100,
            lag: 100,
            error: { message: 'boom', position: 1101, attempts: 3 },
          }),
        }),
        projection('services.new_view', {
          file: null,
          sizeBytes: null,
          version: null,
          position: null,
          logId: null,
          builtAt: null,
          runtime: runtime('services.new_view', { state: 'rebuilding', position: 0, lag: 1200 }),
        }),
      ],
      builds: ['passes.pass_view.abc.db'],
      quarantined: [],
    }
    const text = renderStatus(report, plain, new Date('2026-11-24T08:00:02.500Z'))
    expect(text.split('\n')).toEqual([
      '/data/projections',
      'owned by a running process (pid 4242, status published 2.5s ago)',
      'event log id: log-a',
      '',
      'NAME               VERSION  STATE       POSITION  LAG    SIZE    BUILT',
      'passes.pass_view   1 → 2    rebuilding  1,200     0      2.0 KB  2026-11-24 07:00:00Z',
      '  rebuilding (version changed from 1 to 2): 300/1,200 events (25%), 51,200 events/s, ETA 3.0s',
      'scanning.scan_log  1        failed      1,200     100    2.0 KB  2026-11-24 07:00:00Z',
      '  error at position 1101 (attempt 3): boom',
      'services.new_view  1        rebuilding  -         1,200  -       -',
      '  no file yet: its first build is running',
      '',
      'builds in progress: passes.pass_view.abc.db',
      '',
    ])
  })

  it('lists files of different logs with a log id column, and problems under their row', () => {
    const report: StatusReport = {
      dir: '/d',
      owned: false,
      owner: null,
      projections: [
        projection('a'),
        projection('b', { logId: 'log-b' }),
        projection('c', {
          version: null,
          position: null,
          logId: null,
          builtAt: null,
          sizeBytes: 12,
          built: false,
          problem: 'not a SQLite database (bad header)',
        }),
      ],
      builds: [],
      quarantined: ['c.20261124T070000Z.db'],
    }
    const text = renderStatus(report, plain)
    expect(text).toContain('not owned: no process is running on it')
    expect(text).not.toContain('event log id')
    expect(text).toMatch(/NAME\s+VERSION\s+POSITION\s+SIZE\s+BUILT\s+LOG ID\n/)
    expect(text).toMatch(/\na\s+1\s+1,200\s+2\.0 KB\s+2026-11-24 07:00:00Z\s+log-a\n/)
    expect(text).toMatch(/\nb\s+1\s+1,200\s+2\.0 KB\s+2026-11-24 07:00:00Z\s+log-b\n/)
    expect(text).toContain(
      '  problem: not a SQLite database (bad header) (a process running c moves it aside and rebuilds it when it opens the file)',
    )
    expect(text).toContain('moved aside: c.20261124T070000Z.db')
  })

  it('a file not built yet (0 bytes, or a setup that failed) is no problem, and the note says what happens', () => {
    const unbuilt = {
      built: false,
      version: null,
      position: null,
      logId: null,
      formatVersion: null,
      builtAt: null,
    }
    const report: StatusReport = {
      dir: '/d',
      owned: true,
      owner: { pid: 7, updatedAt: '2026-11-24T08:00:00.000Z' },
      projections: [
        projection('empty', { ...unbuilt, sizeBytes: 0, runtime: runtime('empty', { state: 'rebuilding' }) }),
        projection('failing', {
          ...unbuilt,
          sizeBytes: 8192,
          runtime: runtime('failing', {
            state: 'failed',
            position: 0,
            lag: 1200,
            error: { message: 'no such column: holder', position: 0, attempts: 4 },
          }),
        }),
      ],
      builds: [],
      quarantined: [],
    }
    const text = renderStatus(report, plain, new Date('2026-11-24T08:00:01.000Z'))
    expect(text).not.toContain('problem')
    expect(text).not.toContain('moved aside')
    expect(text.split('\n').filter((line) => line.includes('not built yet'))).toEqual([
      '  not built yet: the file holds no projection data; it is built in place when the projection opens',
      '  not built yet: the file holds no projection data; it is built in place when the projection opens',
    ])
    expect(text).toContain('  error at position 0 (attempt 4): no such column: holder')
  })

  it('a file the owning process does not run is explained, with what eskit rebuild does with it', () => {
    const report: StatusReport = {
      dir: '/d',
      owned: true,
      owner: { pid: 7, updatedAt: '2026-11-24T08:00:00.000Z' },
      projections: [projection('a', { runtime: runtime('a') }), projection('legacy.view', { orphan: true })],
      builds: [],
      quarantined: [],
    }
    const lines = renderStatus(report, plain, new Date('2026-11-24T08:00:01.000Z')).split('\n')
    expect(lines).toContain(
      '  not run by the owning process: nothing reads or updates this file; eskit rebuild legacy.view is rejected while it owns the directory, and deletes the file once no process owns it',
    )
    expect(lines.find((line) => line.startsWith('legacy.view'))).toMatch(
      /^legacy\.view\s+1\s+not run\s+1,200\s+-\s/,
    )
  })

  it('says when a directory has no projection files', () => {
    const text = renderStatus(
      { dir: '/d', owned: false, owner: null, projections: [], builds: [], quarantined: [] },
      plain,
    )
    expect(text).toBe('/d\nnot owned: no process is running on it\n\nno projection files\n')
  })
})

import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, dataPaths, describeEventLog, parseViewVersions, resolveConfig } from './config.ts'

describe('resolveConfig', () => {
  it('uses the embedded defaults', () => {
    expect(resolveConfig({}, {})).toEqual({
      store: 'files',
      events: { kind: 'sqlite' },
      dataDir: path.resolve('data'),
      host: '127.0.0.1',
      port: 3000,
      viewVersions: {},
      logLevel: 'info',
      bodyLimitBytes: 16_384,
      waitTimeoutMs: 5_000,
    })
  })

  it('lets flags win over the environment', () => {
    const env = {
      YOYOPASS_STORE: 'shared',
      YOYOPASS_PORT: '4000',
      YOYOPASS_VIEW_VERSIONS: 'passes.pass_view=2, scanning.scan_log=7',
    }
    const config = resolveConfig({ port: '0', data: '/srv/yoyo', viewVersion: ['passes.pass_view=3'] }, env)
    expect(config).toMatchObject({
      store: 'shared',
      port: 0,
      dataDir: '/srv/yoyo',
      viewVersions: { 'passes.pass_view': '3', 'scanning.scan_log': '7' },
    })
  })

  it('refuses nonsense with a message naming the flag', () => {
    expect(() => resolveConfig({ store: 'postgres' }, {})).toThrow(
      new ConfigError('--store must be "files" or "shared", got "postgres"'),
    )
    expect(() => resolveConfig({ port: '70000' }, {})).toThrow(
      '--port must be an integer from 0 to 65535, got "70000"',
    )
    expect(() => resolveConfig({ port: '3e3' }, {})).toThrow(ConfigError)
    expect(() => resolveConfig({ logLevel: 'loud' }, {})).toThrow(
      '--log-level must be debug, info, warn or error',
    )
    expect(() => parseViewVersions(['passes.nope=2'])).toThrow('unknown view "passes.nope"')
    expect(() => parseViewVersions(['passes.pass_view='])).toThrow('give NAME=VERSION')
  })

  it('takes the event log from --events or YOYOPASS_EVENTS; SQLite stays the default', () => {
    const url = 'postgres://app:s3cret@db.internal:5432/yoyopass'
    expect(resolveConfig({}, { YOYOPASS_EVENTS: url }).events).toEqual({
      kind: 'postgres',
      connectionString: url,
    })
    expect(resolveConfig({ events: 'sqlite' }, { YOYOPASS_EVENTS: url }).events).toEqual({ kind: 'sqlite' })
    expect(resolveConfig({ events: 'postgresql://db/yoyo' }, {}).events.kind).toBe('postgres')
    // printed and logged without the password
    expect(describeEventLog({ kind: 'postgres', connectionString: url })).toBe(
      'postgres://app:***@db.internal:5432/yoyopass',
    )
    expect(describeEventLog({ kind: 'sqlite' }, '/d')).toBe('sqlite /d/events.db')
    expect(() => resolveConfig({ events: 'mysql://root:pw@db/x' }, {})).toThrow(
      '--events must be "sqlite" or a postgres:// connection string, got a mysql: URL',
    )
    // a refusal never repeats the value (it may hold a password)
    expect(() => resolveConfig({ events: 'pw-in-here' }, {})).toThrow(/^(?!.*pw-in-here)/)
  })

  it('takes the dashboard token from the flag or YOYOPASS_DASHBOARD_TOKEN, and never repeats a bad one', () => {
    expect(resolveConfig({}, {}).dashboardToken).toBeUndefined()
    expect(resolveConfig({}, { YOYOPASS_DASHBOARD_TOKEN: 'from-the-environment-0001' }).dashboardToken).toBe(
      'from-the-environment-0001',
    )
    expect(
      resolveConfig(
        { dashboardToken: 'from-the-flag-00000001' },
        { YOYOPASS_DASHBOARD_TOKEN: 'from-the-environment-0001' },
      ).dashboardToken,
    ).toBe('from-the-flag-00000001')
    let message = ''
    try {
      resolveConfig({ dashboardToken: 'short-one' }, {})
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toBe('--dashboard-token must be at least 16 characters with no spaces')
  })

  it("takes the build workers from --build-workers or YOYOPASS_BUILD_WORKERS; default: the collector's", () => {
    expect(resolveConfig({}, {}).buildWorkers).toBeUndefined()
    expect(resolveConfig({}, { YOYOPASS_BUILD_WORKERS: '0' }).buildWorkers).toBe(0)
    expect(resolveConfig({ buildWorkers: '3' }, { YOYOPASS_BUILD_WORKERS: '0' }).buildWorkers).toBe(3)
    expect(() => resolveConfig({ buildWorkers: '-1' }, {})).toThrow(
      '--build-workers must be an integer from 0 to 64, got "-1"',
    )
    expect(() => resolveConfig({ buildWorkers: '65' }, {})).toThrow(ConfigError)
  })

  it('keeps the standard data layout the eskit CLI expects', () => {
    expect(dataPaths('/d')).toEqual({
      events: '/d/events.db',
      projections: '/d/projections',
      shared: '/d/shared.db',
    })
  })
})

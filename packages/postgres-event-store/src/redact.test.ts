import util from 'node:util'
import { describe, expect, it } from 'vitest'
import { createRedactor, passwordOf, redactedWhenPrinted } from './redact.js'

describe('passwordOf', () => {
  it('finds the password of URL and key=value connection strings', () => {
    expect(passwordOf('postgres://app:s3cret@db:5432/app')).toBe('s3cret')
    expect(passwordOf('postgresql://app:p%40ss%20w0rd@db/app')).toBe('p@ss w0rd')
    expect(passwordOf('host=db user=app password=hunter2 dbname=app')).toBe('hunter2')
    expect(passwordOf("host=db password='quoted' dbname=app")).toBe('quoted')
    expect(passwordOf('postgres://app@db/app')).toBeUndefined()
  })
})

describe('createRedactor', () => {
  it('removes every form of the secrets and the password part of any postgres URL', () => {
    const redact = createRedactor(['p@ss w0rd', undefined, ''])
    expect(redact('at postgres://app:p%40ss%20w0rd@db/app failed')).toBe(
      'at postgres://app:***@db/app failed',
    )
    expect(redact('raw p@ss w0rd here')).toBe('raw *** here')
    expect(redact('other postgres://u:another@h/d')).toBe('other postgres://u:***@h/d')
    expect(redact('nothing secret')).toBe('nothing secret')
  })
})

describe('redactedWhenPrinted', () => {
  it('prints redacted (JSON, inspect, console) while a structured clone keeps the real values', () => {
    const url = 'postgres://app:hunter2@db/app'
    const options = redactedWhenPrinted({ connectionString: url, timeoutMs: 5 }, createRedactor(['hunter2']))
    const source = { module: 'file:///x.mjs', export: 'open', options }
    expect(JSON.stringify(source)).toBe(
      '{"module":"file:///x.mjs","export":"open","options":{"connectionString":"postgres://app:***@db/app","timeoutMs":5}}',
    )
    expect(util.inspect(source, { depth: 4 })).not.toContain('hunter2')
    expect(util.format('%o %O %j', source, source, source)).not.toContain('hunter2')
    expect(structuredClone(source)).toEqual({
      module: 'file:///x.mjs',
      export: 'open',
      options: { connectionString: url, timeoutMs: 5 },
    })
    expect(Object.keys(options)).toEqual(['connectionString', 'timeoutMs'])
    expect(options.connectionString).toBe(url)
  })
})

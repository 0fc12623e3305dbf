import { describe, expect, it } from 'vitest'
import { createRedactor, passwordOf } from './redact.js'

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

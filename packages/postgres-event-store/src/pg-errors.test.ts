import { EskitError } from '@eskit/core'
import { describe, expect, it } from 'vitest'
import { postgresErrorCode, toPostgresError } from './pg-errors.js'
import { createRedactor } from './redact.js'

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code })

describe('postgresErrorCode', () => {
  it('maps SQLSTATEs and socket errors to eskit codes', () => {
    const cases: Array<[unknown, string]> = [
      [withCode('ECONNREFUSED'), 'UNAVAILABLE'],
      [withCode('ECONNRESET'), 'UNAVAILABLE'],
      [withCode('57P01'), 'UNAVAILABLE'], // admin_shutdown
      [withCode('57P03'), 'UNAVAILABLE'], // cannot_connect_now
      [withCode('08006'), 'UNAVAILABLE'],
      [withCode('53300'), 'UNAVAILABLE'], // too_many_connections
      [withCode('57014'), 'UNAVAILABLE'], // statement timeout
      [new Error('Connection terminated unexpectedly'), 'UNAVAILABLE'],
      [new Error('timeout exceeded when trying to connect'), 'UNAVAILABLE'],
      [new AggregateError([withCode('ECONNREFUSED')], 'connect failed'), 'UNAVAILABLE'],
      [withCode('55P03'), 'BUSY'], // lock_not_available
      [withCode('23505'), 'CONSTRAINT'],
      [withCode('53100'), 'DISK_FULL'],
      [withCode('28P01'), 'READ_ONLY'],
      [withCode('42501'), 'READ_ONLY'],
      [withCode('3D000'), 'NOT_FOUND'],
      [withCode('22021'), 'INVALID_EVENT'],
      [withCode('22P05'), 'INVALID_EVENT'],
      [withCode('XX001'), 'CORRUPT'],
      [withCode('42P01'), 'IO'],
      [new Error('something else'), 'IO'],
      ['a string', 'IO'],
    ]
    for (const [error, code] of cases) expect([error, postgresErrorCode(error)]).toEqual([error, code])
  })
})

describe('toPostgresError', () => {
  it('redacts the password from the message, keeps the cause and the SQLSTATE', () => {
    const redact = createRedactor(['p@ss w0rd'])
    const cause = withCode('28P01', 'password authentication failed for postgres://app:p%40ss%20w0rd@db/app')
    const error = toPostgresError(cause, 'could not open postgres://app:p@ss w0rd@db/app', redact, {
      schema: 's',
    })
    expect(error).toBeInstanceOf(EskitError)
    expect(error.code).toBe('READ_ONLY')
    expect(error.message).not.toContain('w0rd')
    expect(error.message).toContain('***')
    expect(error.cause).toBe(cause)
    expect(error.details).toEqual({ schema: 's', pgCode: '28P01' })
  })

  it('passes an EskitError through', () => {
    const original = new EskitError('CONCURRENCY', 'no')
    expect(toPostgresError(original, 'x', createRedactor([]))).toBe(original)
  })
})

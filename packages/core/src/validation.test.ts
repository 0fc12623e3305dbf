import { describe, expect, it } from 'vitest'
import { isEskitError } from './eskit-error.js'
import { assertProjectionName, assertStreamId, encodeEvents, isValidProjectionName } from './validation.js'

const codeOf = (call: () => unknown) => {
  try {
    call()
    return 'ok'
  } catch (error) {
    return isEskitError(error) ? error.code : `not an EskitError: ${String(error)}`
  }
}

describe('projection names (behaviour 9)', () => {
  it('accepts 1-128 characters of A-Z a-z 0-9 . _ - not starting with a dot', () => {
    for (const name of ['a', 'passes.pass_view', 'A-b_c.9', '_x', '-y', 'x'.repeat(128), 'v..2']) {
      expect(codeOf(() => assertProjectionName(name))).toBe('ok')
      expect(isValidProjectionName(name)).toBe(true)
    }
  })

  it('refuses everything else with INVALID_NAME, naming the value', () => {
    for (const name of [
      '',
      '.hidden',
      '..',
      '../x',
      'a/b',
      'a\\b',
      'a b',
      'é',
      'x'.repeat(129),
      'a\u0000b',
      7,
      null,
    ]) {
      expect(codeOf(() => assertProjectionName(name))).toBe('INVALID_NAME')
      expect(isValidProjectionName(name)).toBe(false)
    }
    try {
      assertProjectionName('../etc')
    } catch (error) {
      expect((error as Error).message).toContain('"../etc"')
    }
  })
})

describe('stream ids', () => {
  it('must be non-empty strings of at most 1024 characters', () => {
    expect(codeOf(() => assertStreamId('pass-1'))).toBe('ok')
    expect(codeOf(() => assertStreamId('x'.repeat(1024)))).toBe('ok')
    for (const id of ['', 'x'.repeat(1025), 3, undefined]) {
      expect(codeOf(() => assertStreamId(id))).toBe('INVALID_EVENT')
    }
  })
})

describe('encodeEvents', () => {
  it('returns the JSON text of data and metadata', () => {
    const [one, two] = encodeEvents([
      { type: 'A', data: { n: 1, when: new Date('2026-01-01T00:00:00.000Z'), skip: undefined } },
      { type: 'B', data: null, metadata: { by: 'me' } },
    ])
    expect(one).toMatchObject({
      type: 'A',
      data: '{"n":1,"when":"2026-01-01T00:00:00.000Z"}',
      metadata: null,
    })
    expect(two).toMatchObject({ type: 'B', data: 'null', metadata: '{"by":"me"}' })
  })

  it('refuses what JSON would change or lose, with INVALID_EVENT and the event index', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const bad: unknown[] = [
      undefined,
      [],
      'events',
      [null],
      [[1]],
      [{ type: '', data: 1 }],
      [{ type: 'x'.repeat(257), data: 1 }],
      [{ type: 5, data: 1 }],
      [{ type: 'A' }],
      [{ type: 'A', data: () => 1 }],
      [{ type: 'A', data: { deep: [1, { f: Symbol('s') }] } }],
      [{ type: 'A', data: 10n }],
      [{ type: 'A', data: Number.POSITIVE_INFINITY }],
      [{ type: 'A', data: cyclic }],
      [{ type: 'A', data: new Map() }],
      [{ type: 'A', data: [undefined] }],
      [{ type: 'A', data: 1, metadata: [] }],
      [{ type: 'A', data: 1, metadata: null }],
      [{ type: 'A', data: 1, metadata: { n: Number.NaN } }],
    ]
    for (const events of bad) {
      expect(codeOf(() => encodeEvents(events))).toBe('INVALID_EVENT')
    }
    try {
      encodeEvents([
        { type: 'A', data: 1 },
        { type: 'A', data: { f: () => 1 } },
      ])
    } catch (error) {
      expect(isEskitError(error) && error.details).toEqual({ index: 1 })
      expect((error as Error).message).toContain('data.f is a function')
    }
  })

  it('accepts the same object twice in one tree (not a cycle)', () => {
    const shared = { n: 1 }
    expect(encodeEvents([{ type: 'A', data: { a: shared, b: shared } }])[0]?.data).toBe(
      '{"a":{"n":1},"b":{"n":1}}',
    )
  })
})

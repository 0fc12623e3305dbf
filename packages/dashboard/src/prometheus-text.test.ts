import { describe, expect, it } from 'vitest'
import { parseExposition } from '../test/prometheus.js'

describe('the test parser of the exposition format', () => {
  it('refuses what a scraper refuses, so the metrics tests can fail', () => {
    expect(() => parseExposition('a 1')).toThrow(/newline/)
    expect(() => parseExposition('# TYPE a gauge\na{x="1} 1\n')).toThrow(/labels|valid/)
    expect(() => parseExposition('# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na 2\n')).toThrow(
      /twice/,
    )
    expect(() =>
      parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'),
    ).toThrow(/cumulative/)
    expect(parseExposition('# TYPE a gauge\na{x="q\\"uote"} 1.5\n')[0]?.samples[0]).toEqual({
      name: 'a',
      labels: { x: 'q"uote' },
      value: 1.5,
    })
  })
})

import parsePrometheusTextFormat from 'parse-prometheus-text-format'

/** One sample line: metric name, labels, value. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** A metric family: its TYPE, HELP and samples (histogram samples keep their _bucket/_sum/_count names). */
export interface Family {
  name: string
  type: string
  help: string
  samples: Sample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`)
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\\\|\\"|\\n|[^"\\])*)"(,|$)/

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text))
    throw new Error(`bad value in ${JSON.stringify(line)}`)
  return Number(text)
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let rest = text
  while (rest.length > 0) {
    const match = LABEL.exec(rest)
    if (!match) throw new Error(`bad labels in ${JSON.stringify(line)}`)
    const [whole, key, raw] = match as unknown as [string, string, string]
    if (key in labels) throw new Error(`label ${key} twice in ${JSON.stringify(line)}`)
    labels[key] = raw.replace(/\\(\\|"|n)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    rest = rest.slice(whole.length)
  }
  return labels
}

/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), as the scraper reads
 * it: HELP and TYPE before a family's samples, each family in one block, histogram series with
 * cumulative buckets ending in `+Inf` equal to `_count`. Throws on anything else.
 */
export function parseExposition(text: string): Family[] {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  const families: Family[] = []
  const closed = new Set<string>()
  let current: Family | undefined
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line)
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string]
      if (current?.name !== name) {
        if (current) closed.add(current.name)
        if (closed.has(name)) throw new Error(`family ${name} appears twice`)
        current = { name, type: 'untyped', help: '', samples: [] }
        families.push(current)
      }
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          throw new Error(`bad type ${rest}`)
        if (current.samples.length > 0) throw new Error(`TYPE of ${name} after its samples`)
        current.type = rest
      } else current.help = rest
      continue
    }
    if (line.startsWith('#') || line === '') continue
    const match = SAMPLE.exec(line)
    if (!match) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`)
    const [, name, labelText, valueText] = match as unknown as [string, string, string | undefined, string]
    const suffixes =
      current?.type === 'histogram'
        ? ['_bucket', '_sum', '_count']
        : current?.type === 'counter'
          ? ['', '_total']
          : ['']
    if (
      !current ||
      !suffixes.some(
        (suffix) => name === `${current?.name}${suffix}` || (suffix === '' && name === current?.name),
      )
    ) {
      throw new Error(`sample ${name} outside its family's block`)
    }
    current.samples.push({
      name,
      labels: parseLabels(labelText ?? '', line),
      value: parseValue(valueText, line),
    })
  }
  for (const family of families.filter((f) => f.type === 'histogram')) checkHistogram(family)
  return families
}

function checkHistogram(family: Family): void {
  const series = new Map<string, Sample[]>()
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels
    const key = JSON.stringify(rest)
    series.set(key, [...(series.get(key) ?? []), sample])
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((s) => s.name.endsWith('_bucket'))
    let previous = 0
    let bound = Number.NEGATIVE_INFINITY
    for (const bucket of buckets) {
      const le = parseValue(bucket.labels.le ?? 'missing', key)
      if (le <= bound || bucket.value < previous)
        throw new Error(`histogram ${family.name} ${key}: buckets not cumulative`)
      bound = le
      previous = bucket.value
    }
    const count = samples.find((s) => s.name.endsWith('_count'))?.value
    if (
      bound !== Number.POSITIVE_INFINITY ||
      count !== previous ||
      !samples.some((s) => s.name.endsWith('_sum'))
    ) {
      throw new Error(`histogram ${family.name} ${key}: needs a +Inf bucket equal to _count, and _sum`)
    }
  }
}

/** Parses with the strict parser and with `parse-prometheus-text-format`; both must agree on every gauge and counter. */
export function parseMetrics(text: string): Family[] {
  const families = parseExposition(text)
  for (const other of parsePrometheusTextFormat(text)) {
    const mine = families.find((f) => f.name === other.name)
    if (!mine || mine.type.toUpperCase() !== other.type)
      throw new Error(`the parsers disagree on ${other.name}`)
    if (mine.type !== 'gauge' && mine.type !== 'counter') continue
    const theirs = other.metrics.map((m) => [m.labels ?? {}, Number(m.value)])
    const ours = mine.samples.map((s) => [s.labels, s.value])
    if (JSON.stringify(theirs) !== JSON.stringify(ours))
      throw new Error(`the parsers disagree on ${other.name}`)
  }
  return families
}

/** The value of one sample, by name and labels. */
export function sampleValue(
  families: Family[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  for (const family of families) {
    const sample = family.samples.find(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    )
    if (sample) return sample.value
  }
  return undefined
}

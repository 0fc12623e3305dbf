import type { ProjectionState } from '@eskit/core'
import { REBUILD_BUCKETS_SECONDS } from './rebuild-histogram.js'
import type { MonitorSample, StatusMonitor } from './status-monitor.js'

const STATES: readonly ProjectionState[] = [
  'starting',
  'rebuilding',
  'catching-up',
  'live',
  'failed',
  'stopped',
]

/** The content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** A label value escaped as the exposition format wants (backslash, quote, newline). */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** Prometheus renders +Inf and integral floats its own way; plain numbers are enough here. */
function number(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  return Number.isFinite(value) ? String(value) : 'NaN'
}

/** The metrics of one sample in the Prometheus text format. */
export function renderPrometheusText(sample: MonitorSample, monitor: StatusMonitor): string {
  const lines: string[] = []
  const family = (name: string, type: string, help: string): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
  }
  const each = (metric: string, value: (p: MonitorSample['projections'][number]) => number): void => {
    for (const p of sample.projections)
      lines.push(`${metric}{projection="${label(p.name)}"} ${number(value(p))}`)
  }
  family('eskit_projection_position', 'gauge', 'Last event position the projection has committed.')
  each('eskit_projection_position', (p) => p.position)
  family('eskit_projection_head', 'gauge', 'Event log head when the projection was measured.')
  each('eskit_projection_head', (p) => p.head)
  family('eskit_projection_lag', 'gauge', 'Events the projection is behind the log head (head - position).')
  each('eskit_projection_lag', (p) => p.lag)
  family(
    'eskit_projection_state',
    'gauge',
    'The projection state: 1 for the current state, 0 for the others.',
  )
  for (const p of sample.projections) {
    for (const state of STATES) {
      lines.push(
        `eskit_projection_state{projection="${label(p.name)}",state="${state}"} ${p.state === state ? 1 : 0}`,
      )
    }
  }
  family(
    'eskit_projection_events_total',
    'counter',
    'Events the projection has processed (rebuilds included) since the dashboard started.',
  )
  each('eskit_projection_events_total', (p) => p.eventsTotal)
  family('eskit_projection_error_attempts', 'gauge', 'Attempts at the failing event; 0 when not failed.')
  each('eskit_projection_error_attempts', (p) => p.error?.attempts ?? 0)
  family('eskit_projection_parked_events', 'gauge', "Events parked with onError: 'skip'.")
  each('eskit_projection_parked_events', (p) => p.parkedCount)
  family(
    'eskit_projection_rebuild_duration_seconds',
    'histogram',
    'Durations of the completed rebuilds the dashboard has seen.',
  )
  for (const [name, series] of monitor.rebuilds.series()) {
    const projection = `projection="${label(name)}"`
    REBUILD_BUCKETS_SECONDS.forEach((bound, index) => {
      lines.push(
        `eskit_projection_rebuild_duration_seconds_bucket{${projection},le="${number(bound)}"} ${series.buckets[index] ?? 0}`,
      )
    })
    lines.push(`eskit_projection_rebuild_duration_seconds_bucket{${projection},le="+Inf"} ${series.count}`)
    lines.push(`eskit_projection_rebuild_duration_seconds_sum{${projection}} ${number(series.sumSeconds)}`)
    lines.push(`eskit_projection_rebuild_duration_seconds_count{${projection}} ${series.count}`)
  }
  return `${lines.join('\n')}\n`
}

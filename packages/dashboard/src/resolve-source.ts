import { type Collector, EskitError } from '@eskit/core'
import { collectorSource, type DashboardSource } from './dashboard-source.js'

/** The source of a dashboard or metrics handler: exactly one of a collector and a source. */
export function resolveSource(
  options: { collector?: Collector; source?: DashboardSource },
  caller: string,
): DashboardSource {
  const { collector, source } = options
  if ((collector === undefined) === (source === undefined)) {
    throw new EskitError('INVALID_ARGUMENT', `${caller}: give either a collector or a source`)
  }
  if (collector !== undefined) {
    if (typeof collector?.status !== 'function' || typeof collector.on !== 'function') {
      throw new EskitError('INVALID_ARGUMENT', `${caller}: collector must be a Collector`)
    }
    return collectorSource(collector)
  }
  if (typeof source?.status !== 'function' || typeof source.parked !== 'function') {
    throw new EskitError('INVALID_ARGUMENT', `${caller}: source must have status() and parked(name)`)
  }
  return source
}

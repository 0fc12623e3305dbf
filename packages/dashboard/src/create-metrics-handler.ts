import { type Collector, type Logger, silentLogger } from '@eskit/core'
import type { DashboardSource } from './dashboard-source.js'
import { methodNotAllowed, SECURITY_HEADERS } from './http-answers.js'
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText } from './prometheus-text.js'
import { resolveSource } from './resolve-source.js'
import { createStatusMonitor, type StatusMonitor } from './status-monitor.js'

/**
 * Options of {@link createMetricsHandler}.
 *
 * @example
 * ```ts
 * const options: MetricsHandlerOptions = { collector, logger }
 * ```
 */
export interface MetricsHandlerOptions {
  collector?: Collector
  source?: DashboardSource
  logger?: Logger
  sampleIntervalMs?: number
}

/**
 * A Prometheus metrics endpoint on its own.
 *
 * @example
 * ```ts
 * const metrics: MetricsHandler = createMetricsHandler({ collector })
 * ```
 */
export interface MetricsHandler {
  (request: Request): Promise<Response>
  close(): void
}

/** A fresh sample of `monitor` as the Prometheus text format (GET and HEAD only). */
export async function metricsFor(request: Request, monitor: StatusMonitor): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return methodNotAllowed('GET')
  const sample = await monitor.sample()
  return new Response(request.method === 'HEAD' ? null : renderPrometheusText(sample, monitor), {
    headers: { ...SECURITY_HEADERS, 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' },
  })
}

/**
 * The Prometheus endpoint alone (the dashboard serves the same at `/metrics`): every path answers
 * the metrics, so it can be mounted anywhere. `close()` stops its sampling.
 *
 * @example
 * ```ts
 * import http from 'node:http'
 * const metrics = createMetricsHandler({ collector })
 * http.createServer(toNodeHandler(metrics)).listen(9464, '127.0.0.1')
 * ```
 */
export function createMetricsHandler(options: MetricsHandlerOptions): MetricsHandler {
  const source = resolveSource(options ?? {}, 'createMetricsHandler')
  const monitor = createStatusMonitor({
    source,
    logger: options.logger ?? silentLogger,
    ...(options.sampleIntervalMs === undefined ? {} : { sampleIntervalMs: options.sampleIntervalMs }),
  })
  return Object.assign((request: Request) => metricsFor(request, monitor), { close: () => monitor.close() })
}

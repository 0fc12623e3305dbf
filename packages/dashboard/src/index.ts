export { createDashboard, type Dashboard, type DashboardOptions } from './create-dashboard.js'
export {
  createMetricsHandler,
  type MetricsHandler,
  type MetricsHandlerOptions,
} from './create-metrics-handler.js'
export { collectorSource, type DashboardSource, type SourceChange } from './dashboard-source.js'
export { type NodeRequestListener, toNodeHandler } from './node-handler.js'
export type { ProjectionView } from './status-monitor.js'

export {
  createDashboard,
  createMetricsHandler,
  type Dashboard,
  type DashboardOptions,
  type MetricsHandler,
  type MetricsHandlerOptions,
} from './create-dashboard.js'
export { collectorSource, type DashboardSource, type SourceChange } from './dashboard-source.js'
export { type NodeRequestListener, toNodeHandler } from './node-handler.js'
export type { ProjectionView } from './status-monitor.js'

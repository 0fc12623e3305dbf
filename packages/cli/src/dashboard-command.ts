import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { EskitError, type Logger, type ParkedEvent, type ProjectionStatus } from '@eskit/core'
import { createDashboard, type DashboardSource, toNodeHandler } from '@eskit/dashboard'
import { readParkedEvents } from '@eskit/sqlite-store'
import { projectionFilePath } from '@eskit/sqlite-store/files'
import { collectStatus, type ProjectionReport } from './status-command.js'

/**
 * A read-only dashboard source for a projection directory, from what its owner publishes
 * (`.eskit/status.json`) and the projection files themselves, read-only. Loads no application
 * code. Without an owner, each file is shown `stopped` at its checkpoint; a file that cannot be
 * served is shown `failed` with its problem.
 *
 * @example
 * ```ts
 * const dashboard = createDashboard({ source: directorySource('data/projections'), title: 'data/projections' })
 * ```
 */
export function directorySource(dir: string): DashboardSource {
  return {
    status: () => collectStatus(dir).projections.map(statusOf),
    async parked(name): Promise<ParkedEvent[]> {
      const file = projectionFilePath(dir, name)
      if (fs.existsSync(file)) return readParkedEvents(file)
      if (collectStatus(dir).projections.some((p) => p.name === name)) return []
      throw new EskitError('NOT_FOUND', `no projection named ${JSON.stringify(name)} in ${dir}`, {
        details: { name, dir },
      })
    },
  }
}

function statusOf(report: ProjectionReport): ProjectionStatus {
  if (report.runtime !== null) return report.runtime
  const position = report.position ?? 0
  const status: ProjectionStatus = {
    name: report.name,
    version: report.version ?? '-',
    state: report.problem === null ? 'stopped' : 'failed',
    position,
    head: position,
    lag: 0,
  }
  if (report.problem !== null) status.error = { message: report.problem, position, attempts: 0 }
  return status
}

/**
 * Options of {@link serveDashboard}.
 *
 * @example
 * ```ts
 * const options: ServeDashboardOptions = { dir: 'data/projections', host: '127.0.0.1', port: 4400 }
 * ```
 */
export interface ServeDashboardOptions {
  dir: string
  /** Default 127.0.0.1: only this machine. */
  host?: string
  /** Default 4400; 0 picks a free port. */
  port?: number
  logger?: Logger
  /** Aborting closes the server. */
  signal?: AbortSignal
  /** Called once the server listens, with its URL. */
  onListening?: (url: string) => void
}

/**
 * Serves the dashboard page read-only for a projection directory (`eskit dashboard`): the same
 * page as `createDashboard`, with no rebuild button and no write endpoint at all (every write
 * method answers 405). Resolves when `signal` aborts and the server is closed. Throws `NOT_FOUND`
 * for a missing directory.
 *
 * @example
 * ```ts
 * await serveDashboard({ dir: 'data/projections', port: 4400, onListening: (url) => console.log(url) })
 * ```
 */
export async function serveDashboard(options: ServeDashboardOptions): Promise<void> {
  collectStatus(options.dir) // NOT_FOUND before listening
  const host = options.host ?? '127.0.0.1'
  const dashboard = createDashboard({
    source: directorySource(options.dir),
    title: `eskit · ${options.dir}`,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  })
  const server = http.createServer(toNodeHandler(dashboard))
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 4400, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    dashboard.close()
    throw new EskitError('INVALID_ARGUMENT', `could not listen on ${host}:${options.port ?? 4400}`, {
      cause: error,
    })
  }
  const { port } = server.address() as AddressInfo
  options.onListening?.(`http://${host.includes(':') ? `[${host}]` : host}:${port}/`)
  await new Promise<void>((resolve) => {
    const close = (): void => {
      dashboard.close()
      server.closeAllConnections()
      server.close(() => resolve())
    }
    if (options.signal?.aborted) close()
    else options.signal?.addEventListener('abort', close, { once: true })
  })
}

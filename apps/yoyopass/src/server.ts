import type { AddressInfo } from 'node:net'
import type { Logger } from '@eskit/core'
import { serve } from '@hono/node-server'
import { ConfigError, type YoyopassConfig } from './config.ts'
import { createConsoleLogger } from './console-logger.ts'
import { createApp, type YoyopassApp } from './create-app.ts'
import { isViewName, VIEW_NAMES } from './views/index.ts'

/** A running yoyopass: its URL, the wiring behind it and a graceful stop. */
export interface RunningServer extends YoyopassApp {
  /** `http://HOST:PORT` as bound (the real port when 0 was asked for). */
  url: string
  /**
   * Stops accepting connections, lets in-flight requests finish (up to `graceMs`, then closes the
   * rest), stops the collector and closes every file. Idempotent.
   */
  stop(graceMs?: number): Promise<void>
}

/** Options of {@link startServer}. */
export interface StartOptions {
  logger?: Logger
  /** `--rebuild-projection`: rebuild these projections once serving (zero-downtime on files). */
  rebuild?: readonly string[]
}

/**
 * Starts yoyopass: wires it (see `createApp`), listens, then runs any requested rebuilds in the
 * background while serving. Progress of catch-up and rebuilds goes to the log.
 *
 * @example
 * ```ts
 * const server = await startServer(resolveConfig({ port: '0' }))
 * console.log(`listening on ${server.url}`)
 * process.once('SIGTERM', () => server.stop())
 * ```
 */
export async function startServer(
  config: YoyopassConfig,
  options: StartOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createConsoleLogger(config.logLevel)
  for (const name of options.rebuild ?? []) {
    if (!isViewName(name))
      throw new ConfigError(
        `--rebuild-projection: unknown projection "${name}"; projections: ${VIEW_NAMES.join(', ')}`,
      )
  }
  const wired = await createApp({ ...config, logger })
  const { collector } = wired

  const lastLogged = new Map<string, number>()
  collector.on('progress', (info) => {
    const now = Date.now()
    if (now - (lastLogged.get(info.name) ?? 0) < 2_000) return
    lastLogged.set(info.name, now)
    logger.info('projection progress', {
      name: info.name,
      state: info.state,
      position: info.position,
      target: info.target,
      eventsPerSecond: Math.round(info.eventsPerSecond),
      etaMs: Math.round(info.etaMs),
    })
  })
  collector.on('error', (info) => {
    logger.error('projection failed', {
      name: info.name,
      position: info.position,
      attempts: info.attempts,
      error: info.error.message,
    })
  })

  let server: ReturnType<typeof serve>
  let address: AddressInfo
  try {
    ;({ server, address } = await new Promise<{ server: ReturnType<typeof serve>; address: AddressInfo }>(
      (resolve, reject) => {
        const s = serve({ fetch: wired.app.fetch, port: config.port, hostname: config.host }, (info) =>
          resolve({ server: s, address: info }),
        )
        s.once('error', reject)
      },
    ))
  } catch (error) {
    await wired.close()
    throw error
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`

  for (const name of options.rebuild ?? []) {
    logger.info('rebuilding projection (requested at start)', { name })
    collector.rebuild(name).catch((error: unknown) => {
      logger.error('requested rebuild failed', {
        name,
        error: error instanceof Error ? error.message : String(error),
      })
    })
  }

  let stopping: Promise<void> | undefined
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      // ends the dashboard's live streams, which would otherwise hold their connections open
      wired.dashboard.close()
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          logger.warn('requests still open after the grace period; closing them', { graceMs })
          if ('closeAllConnections' in server) server.closeAllConnections()
        }, graceMs)
        force.unref()
        // Keep-alive sockets with no request in flight would hold close() open until they time
        // out: close them now, and each one as soon as its in-flight request has been answered.
        const closeIdle = () => {
          if ('closeIdleConnections' in server) server.closeIdleConnections()
        }
        const sweep = setInterval(closeIdle, 50)
        sweep.unref()
        server.close(() => {
          clearTimeout(force)
          clearInterval(sweep)
          resolve()
        })
        closeIdle()
      })
      logger.info('http server closed; stopping the collector')
      await wired.close()
    })()
    return stopping
  }

  return { ...wired, url, stop }
}

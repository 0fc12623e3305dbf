import { EskitError } from '@eskit/core'
import type pg from 'pg'
import { toPostgresError } from './pg-errors.js'
import type { Redactor } from './redact.js'

/**
 * Runs work on a pooled connection within a deadline. Past the deadline the call rejects with
 * `UNAVAILABLE` and the connection is destroyed (a server that stopped answering never hangs a
 * caller); every error leaves as an `EskitError` with a redacted message.
 */
export interface Connections {
  run<T>(
    message: string,
    work: (client: pg.PoolClient) => Promise<T>,
    details?: Record<string, unknown>,
  ): Promise<T>
  readonly redact: Redactor
}

const ignore = (): void => {}

/** {@link Connections} over `pool`, each call bounded by `timeoutMs`. */
export function createConnections(pool: pg.Pool, timeoutMs: number, redact: Redactor): Connections {
  return {
    redact,
    async run(message, work, details) {
      let client: pg.PoolClient | undefined
      let released = false
      let timedOut = false
      const release = (destroy: boolean): void => {
        if (!client || released) return
        released = true
        client.removeListener('error', ignore)
        client.release(destroy ? new Error('eskit: connection dropped') : undefined)
      }
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true
          // Destroying the connection ends the stuck query; its own rejection is ignored below.
          release(true)
          reject(
            new EskitError(
              'UNAVAILABLE',
              redact(`${message}: PostgreSQL did not answer within ${timeoutMs} ms`),
              {
                details: { ...details, timeoutMs },
              },
            ),
          )
        }, timeoutMs)
      })
      const attempt = (async () => {
        const connected = await pool.connect()
        client = connected
        if (timedOut) {
          release(true)
          throw new EskitError('UNAVAILABLE', 'timed out')
        }
        // An error event while the connection is ours (the server went away) must not crash the
        // process: the query in flight rejects with it anyway.
        connected.on('error', ignore)
        try {
          const result = await work(connected)
          release(false)
          return result
        } catch (error) {
          release(postgresConnectionLost(error))
          throw error
        }
      })()
      attempt.catch(ignore)
      try {
        return await Promise.race([attempt, deadline])
      } catch (error) {
        throw toPostgresError(error, message, redact, details)
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/** True when the connection cannot be reused (anything but an error the server answered with). */
function postgresConnectionLost(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
  // A five-character SQLSTATE from the server on a healthy connection (except shutdown/admin ones).
  return !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('57P') || code.startsWith('08')
}

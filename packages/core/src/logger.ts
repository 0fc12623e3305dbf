/**
 * Structured fields attached to a log line.
 *
 * @example
 * ```ts
 * logger.warn('file moved aside', { name: 'passes', reason: 'not SQLite' } satisfies LogFields)
 * ```
 */
export type LogFields = Record<string, unknown>

/**
 * The logger eskit writes to. The library never writes to the console itself: pass pino,
 * console-backed or test loggers that have these four methods.
 *
 * @example
 * ```ts
 * const logger: Logger = {
 *   debug: () => {},
 *   info: (msg, fields) => console.log(msg, fields),
 *   warn: (msg, fields) => console.warn(msg, fields),
 *   error: (msg, fields) => console.error(msg, fields),
 * }
 * ```
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

/**
 * A logger that drops everything: the default when none is injected.
 *
 * @example
 * ```ts
 * const collector = createCollector({ events, store, logger: silentLogger })
 * ```
 */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}

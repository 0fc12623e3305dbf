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
 * // JSON lines on stderr; wrap pino or any other logger the same way
 * const line = (level: string) => (msg: string, fields?: LogFields) =>
 *   process.stderr.write(`${JSON.stringify({ level, msg, ...fields })}\n`)
 * const logger: Logger = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') }
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

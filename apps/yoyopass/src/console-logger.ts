import type { LogFields, Logger } from '@eskit/core'

const LEVELS = ['debug', 'info', 'warn', 'error'] as const

/** A log level; lines below it are dropped. */
export type LogLevel = (typeof LEVELS)[number]

/**
 * The app's logger: one line per entry on stderr (stdout is kept for the `listening on` line and
 * the demo's instructions), `time level message {fields}`.
 *
 * @example
 * ```ts
 * const logger = createConsoleLogger('info')
 * logger.info('projection rebuilt', { name: 'passes.pass_view' })
 * ```
 */
export function createConsoleLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = defaultWrite,
): Logger {
  const min = LEVELS.indexOf(level)
  const line = (at: LogLevel) => (message: string, fields?: LogFields) => {
    if (LEVELS.indexOf(at) < min) return
    const extra = fields === undefined || Object.keys(fields).length === 0 ? '' : ` ${safeJson(fields)}`
    write(`${new Date().toISOString()} ${at.padEnd(5)} ${message}${extra}`)
  }
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') }
}

/**
 * True when `value` names a log level.
 *
 * @example
 * ```ts
 * isLogLevel('warn') // true
 * ```
 */
export function isLogLevel(value: string): value is LogLevel {
  return (LEVELS as readonly string[]).includes(value)
}

function defaultWrite(line: string): void {
  process.stderr.write(`${line}\n`)
}

function safeJson(fields: LogFields): string {
  try {
    return JSON.stringify(fields, (_key, value) =>
      value instanceof Error ? { message: value.message, code: (value as { code?: unknown }).code } : value,
    )
  } catch {
    return '{…}'
  }
}

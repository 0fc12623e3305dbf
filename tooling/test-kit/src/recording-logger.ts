/** One line a {@link recordingLogger} kept. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  fields: Record<string, unknown> | undefined
}

/**
 * A logger (the `Logger` shape of `@eskit/core`) that keeps every line, for assertions on what an
 * operator would read.
 *
 * @example
 * ```ts
 * const logger = recordingLogger()
 * createCollector({ events, store, logger })
 * expect(logger.has('warn', 'moved aside')).toBe(true)
 * ```
 */
export interface RecordingLogger {
  readonly lines: LogLine[]
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  /** True when a line of `level` has `text` in its message. */
  has(level: LogLine['level'], text: string): boolean
  /** The lines of `level` with `text` in their message or fields. */
  find(level: LogLine['level'], text: string): LogLine[]
}

/** Creates a {@link RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
  const lines: LogLine[] = []
  const at =
    (level: LogLine['level']) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields })
    }
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    has: (level, text) => lines.some((line) => line.level === level && line.message.includes(text)),
    find: (level, text) =>
      lines.filter(
        (line) =>
          line.level === level && `${line.message} ${JSON.stringify(line.fields ?? {})}`.includes(text),
      ),
  }
}

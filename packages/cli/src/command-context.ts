import type { Logger } from '@eskit/core'
import { type CliIo, type Colors, colorsFor } from './cli-io.js'

/** What every command gets: the io, colour functions per stream and a printing logger. */
export interface CommandContext {
  readonly io: CliIo
  /** Colours for stdout. */
  readonly out: Colors
  /** Colours for stderr. */
  readonly err: Colors
  /** Library log lines (warnings and errors) go to stderr. */
  readonly logger: Logger
}

export function createCommandContext(io: CliIo): CommandContext {
  const err = colorsFor(io.stderr, io.env)
  const line =
    (level: string, style: (text: string) => string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''
      io.stderr.write(`${style(level)} ${message}${extra}\n`)
    }
  return {
    io,
    out: colorsFor(io.stdout, io.env),
    err,
    logger: {
      debug() {},
      info() {},
      warn: line('warning', err.yellow),
      error: line('error', err.red),
    },
  }
}

/** Writes a value as pretty JSON on stdout (`--json`). */
export function printJson(context: CommandContext, value: unknown): void {
  context.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

import pc from 'picocolors'

/**
 * A stream the CLI writes to: `process.stdout`/`process.stderr`, or a test double.
 *
 * @example
 * ```ts
 * let text = ''
 * const stream: CliStream = { isTTY: false, write: (chunk) => (text += chunk) }
 * ```
 */
export interface CliStream {
  write(chunk: string): unknown
  /** True on a terminal: colours and progress bars are drawn only then. */
  readonly isTTY?: boolean
  readonly columns?: number
}

/**
 * Where the CLI reads its environment and writes its output. {@link runCli} takes one, so it
 * runs the same in-process (tests, scripts) as from the `eskit` binary.
 *
 * @example
 * ```ts
 * let out = ''
 * const io: CliIo = { stdout: { write: (c) => (out += c) }, stderr: process.stderr, env: {} }
 * await runCli(['status', '--dir', 'data/projections', '--json'], io)
 * const report = JSON.parse(out)
 * ```
 */
export interface CliIo {
  readonly stdout: CliStream
  readonly stderr: CliStream
  /** Read for `NO_COLOR`, `FORCE_COLOR` and `TERM`. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Aborting stops a `rebuild --wait` early (the binary aborts it on Ctrl-C). */
  readonly signal?: AbortSignal
}

/**
 * The colour functions the CLI uses; identity functions when colour is off.
 *
 * @example
 * ```ts
 * const c: Colors = colorsFor(process.stdout, process.env)
 * ```
 */
export type Colors = ReturnType<typeof pc.createColors>

/**
 * The io of the running process.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), processIo())
 * ```
 */
export function processIo(signal?: AbortSignal): CliIo {
  return signal === undefined
    ? { stdout: process.stdout, stderr: process.stderr, env: process.env }
    : { stdout: process.stdout, stderr: process.stderr, env: process.env, signal }
}

/**
 * Whether to colour what goes to `stream`: only on a terminal, never with `NO_COLOR` set or
 * `TERM=dumb`; `FORCE_COLOR` (not `0`) turns it on anywhere (https://no-color.org).
 *
 * @example
 * ```ts
 * colorEnabled(process.stdout, process.env) // false when piped or with NO_COLOR=1
 * ```
 */
export function colorEnabled(stream: CliStream, env: CliIo['env']): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  return stream.isTTY === true && env.TERM !== 'dumb'
}

/**
 * The colour functions for `stream`.
 *
 * @example
 * ```ts
 * const c = colorsFor(process.stdout, process.env)
 * process.stdout.write(c.green('live'))
 * ```
 */
export function colorsFor(stream: CliStream, env: CliIo['env']): Colors {
  return pc.createColors(colorEnabled(stream, env))
}

/**
 * The exit codes of the `eskit` command; scripts can rely on them.
 *
 * - `ok` (0): the command did what was asked.
 * - `failure` (1): it could not (unknown projection, missing directory, locked, the rebuild
 *   failed or timed out, a migration target exists, …); nothing was changed that was not the target.
 * - `usage` (2): the command line is wrong (unknown command or option, missing argument,
 *   invalid projection name); nothing was touched.
 * - `interrupted` (130): stopped by Ctrl-C while waiting; a requested rebuild goes on.
 *
 * @example
 * ```ts
 * const code = await runCli(['status', '--dir', 'data/projections'])
 * if (code === EXIT_CODES.failure) console.error('status failed')
 * ```
 */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
} as const

/**
 * One of {@link EXIT_CODES}.
 *
 * @example
 * ```ts
 * const code: ExitCode = await runCli(process.argv.slice(2))
 * ```
 */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES]

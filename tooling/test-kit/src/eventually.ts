/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** Named in the error when time runs out. */
  what?: string
  /** Default 5000 ms. */
  timeoutMs?: number
  /** Default 5 ms. */
  intervalMs?: number
}

/**
 * Polls `check` until it gives a value other than `false`, `null` or `undefined`, and returns it;
 * fails after `timeoutMs` with what was awaited. The one way tests wait for a condition (never a
 * fixed sleep before an assertion).
 *
 * @example
 * ```ts
 * await eventually(() => collector.status()[0]?.state === 'live', 'live')
 * const line = await eventually(() => logger.lines.find((l) => l.message === 'rebuilt'))
 * ```
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: EventuallyOptions | string = {},
): Promise<Exclude<T, false | null | undefined>> {
  const {
    what = 'the condition',
    timeoutMs = 5000,
    intervalMs = 5,
  } = typeof options === 'string' ? { what: options } : options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== false && value !== null && value !== undefined)
      return value as Exclude<T, false | null | undefined>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

import crypto from 'node:crypto'
import type { LogFields, Logger } from '@eskit/core'
import pg from 'pg'

/** A logger that keeps its lines, for assertions. */
export function recordingLogger(): Logger & {
  lines: Array<{ level: string; message: string; fields?: LogFields }>
} {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = []
  const record =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push(fields === undefined ? { level, message } : { level, message, fields })
    }
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') }
}

/** A fresh schema name. */
export function freshSchema(prefix = 'log'): string {
  return `${prefix}_${crypto.randomBytes(6).toString('hex')}`
}

/** Runs one statement on a connection of its own. */
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query<T>(text, values)).rows
  } finally {
    await client.end()
  }
}

/** Polls `check` until it returns true (or throws after `timeoutMs`): waiting for a condition, never a fixed sleep. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

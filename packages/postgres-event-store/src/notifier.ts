import type { Logger } from '@eskit/core'
import type { Connections } from './connections.js'
import type { Redactor } from './redact.js'

/** Sends the NOTIFY of committed appends. */
export interface Notifier {
  /** Tells every node the new head, soon; heads that come while one is being sent are coalesced. */
  notify(head: number): void
  drain(): Promise<void>
}

/**
 * NOTIFY in its own statement after the append committed, never inside the append's transaction:
 * NOTIFY takes a global lock at commit, and a full notification queue would fail the append. At
 * most one is in flight; meanwhile only the newest head is kept. A failed NOTIFY is only logged:
 * the other nodes' poll finds the events anyway.
 */
export function createNotifier(options: {
  connections: Connections
  channel: string
  logger: Logger
  redact: Redactor
}): Notifier {
  let latest = 0
  let sent = 0
  let sending: Promise<void> | undefined

  const loop = async (): Promise<void> => {
    while (latest > sent) {
      const head = latest
      try {
        await options.connections.run('could not notify the other nodes', (client) =>
          // A NOTIFY commits a transaction of its own; it need not wait for the WAL flush (a notification
          // lost in a crash is found by the poll), so it does not cost appends a second fsync.
          client.query(`SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)`, [
            options.channel,
            String(head),
          ]),
        )
      } catch (error) {
        options.logger.warn('NOTIFY failed; other nodes see the append at their next poll', {
          head,
          error: options.redact(error instanceof Error ? error.message : String(error)),
        })
      }
      sent = head
    }
    sending = undefined
  }

  return {
    notify(head) {
      if (head > latest) latest = head
      sending ??= loop()
    },
    async drain() {
      while (sending) await sending
    },
  }
}

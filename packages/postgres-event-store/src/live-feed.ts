import type { Logger } from '@eskit/core'
import type pg from 'pg'
import type { Redactor } from './redact.js'

/**
 * Where the feed's LISTEN connection is: `idle` before the first subscriber, `connecting`,
 * `listening`, `waiting` for the next reconnect attempt (backoff) after a failure, `closed`.
 */
export type FeedPhase = 'idle' | 'connecting' | 'listening' | 'waiting' | 'closed'

/** Options of {@link createLiveFeed}. */
export interface LiveFeedOptions {
  /** A new, unconnected client for the LISTEN connection (never a pooled one). */
  newClient: () => pg.Client
  channel: string
  /** The safety poll: the head is read this often even when no notification came. */
  pollIntervalMs: number
  readHead: () => Promise<number>
  /** Called with every head the feed learns of (duplicates and old heads included). */
  onHead: (head: number) => void
  logger: Logger
  redact: Redactor
  reconnect: { initialMs: number; maxMs: number }
}

/** The LISTEN side of the log: notifications from every node, a poll as the safety net. */
export interface LiveFeed {
  readonly phase: FeedPhase
  /** Opens the LISTEN connection and starts the poll (once; later calls do nothing). */
  start(): void
  close(): Promise<void>
}

/**
 * A dedicated LISTEN connection with reconnect (exponential backoff with jitter) and a re-poll of
 * the head after every (re)connect, so a notification lost while the connection was down is
 * never missed; plus a poll every `pollIntervalMs` in case a notification is lost anyway.
 */
export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { channel, logger, redact } = options
  let phase: FeedPhase = 'idle'
  let client: pg.Client | undefined
  let attempt = 0
  let reconnectTimer: NodeJS.Timeout | undefined
  let pollTimer: NodeJS.Timeout | undefined
  let polling = false

  const poll = async (): Promise<void> => {
    if (polling || phase === 'closed') return
    polling = true
    try {
      options.onHead(await options.readHead())
    } catch (error) {
      logger.debug('event log poll failed', { error: redact(messageOf(error)) })
    } finally {
      polling = false
    }
  }

  const schedulePoll = (): void => {
    if (phase === 'closed') return
    pollTimer = setTimeout(() => {
      void poll().finally(schedulePoll)
    }, options.pollIntervalMs)
    pollTimer.unref?.()
  }

  const lost = (current: pg.Client, error: unknown): void => {
    if (client !== current || phase === 'closed') return
    client = undefined
    current.removeAllListeners('notification')
    current.end().catch(() => undefined)
    if (phase === 'listening') {
      logger.warn('event log LISTEN connection lost; reconnecting', { error: redact(messageOf(error)) })
    }
    phase = 'waiting'
    const base = Math.min(options.reconnect.maxMs, options.reconnect.initialMs * 2 ** attempt)
    attempt += 1
    reconnectTimer = setTimeout(connect, base / 2 + Math.random() * (base / 2))
    reconnectTimer.unref?.()
  }

  const connect = (): void => {
    if (phase === 'closed') return
    phase = 'connecting'
    const current = options.newClient()
    client = current
    current.on('error', (error) => lost(current, error))
    current.on('end', () => lost(current, new Error('connection ended')))
    current.on('notification', (message) => {
      if (message.channel !== channel) return
      const head = Number(message.payload)
      if (Number.isSafeInteger(head)) options.onHead(head)
    })
    current
      .connect()
      .then(() => current.query(`LISTEN "${channel}"`))
      .then(() => {
        if (client !== current || phase === 'closed') return
        phase = 'listening'
        if (attempt > 0) logger.info('event log LISTEN connection back', { attempts: attempt })
        attempt = 0
        // Whatever was appended while nobody listened is announced now.
        void poll()
      })
      .catch((error: unknown) => lost(current, error))
  }

  return {
    get phase() {
      return phase
    },
    start() {
      if (phase !== 'idle') return
      connect()
      schedulePoll()
    },
    async close() {
      if (phase === 'closed') return
      phase = 'closed'
      clearTimeout(reconnectTimer)
      clearTimeout(pollTimer)
      const current = client
      client = undefined
      if (current) {
        current.removeAllListeners('notification')
        await current.end().catch(() => undefined)
      }
    },
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

import cliProgress from 'cli-progress'
import type { CliStream } from './cli-io.js'
import { formatCount, formatDuration } from './format.js'

/** What one progress update shows. */
export interface ProgressUpdate {
  value: number
  total: number
  /** Shown after the counts, e.g. `51,200 events/s, ETA 3s`. */
  detail?: string
}

/** A progress display: a bar on a terminal, plain lines otherwise. */
export interface ProgressReporter {
  update(update: ProgressUpdate): void
  /** Leaves the last state on screen and ends the display. Idempotent. */
  stop(): void
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is in progress, e.g. `rebuilding passes.pass_view`. */
  label: string
  /** What is counted, e.g. `events`. */
  unit: string
  /** Minimum time between two plain lines (not on a terminal). Default 1000 ms. */
  lineIntervalMs?: number
}

const percentOf = (value: number, total: number): number =>
  total <= 0 ? 100 : Math.min(100, Math.floor((value / total) * 100))

/**
 * A progress bar drawn with `cli-progress` when `stream` is a terminal; otherwise a plain line
 * at most once per `lineIntervalMs` (and one for the final state), which logs and CI keep readable.
 */
export function createProgress(stream: CliStream, options: ProgressOptions): ProgressReporter {
  const { label, unit } = options
  if (stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {done}/{all} ${unit} | {detail}`,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        // cli-progress only needs write and the TTY flag; readline moves the cursor through write.
        stream: stream as NodeJS.WritableStream,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    )
    let started = false
    let stopped = false
    return {
      update({ value, total, detail }) {
        if (stopped) return
        const payload = { done: formatCount(value), all: formatCount(total), detail: detail ?? '' }
        if (!started) {
          started = true
          bar.start(Math.max(total, 1), Math.min(value, Math.max(total, 1)), payload)
          return
        }
        bar.setTotal(Math.max(total, 1))
        bar.update(Math.min(value, Math.max(total, 1)), payload)
      },
      stop() {
        if (stopped) return
        stopped = true
        if (started) bar.stop()
      },
    }
  }
  const interval = options.lineIntervalMs ?? 1000
  let lastLineAt = Number.NEGATIVE_INFINITY
  let lastLine = ''
  let pending: string | null = null
  let stopped = false
  const print = (line: string): void => {
    stream.write(`${line}\n`)
    lastLine = line
    lastLineAt = performance.now()
    pending = null
  }
  return {
    update({ value, total, detail }) {
      if (stopped) return
      const line = `${label}: ${formatCount(value)}/${formatCount(total)} ${unit} (${percentOf(value, total)}%)${detail ? `, ${detail}` : ''}`
      if (line === lastLine) return
      if (performance.now() - lastLineAt >= interval) print(line)
      else pending = line
    },
    stop() {
      if (stopped) return
      stopped = true
      if (pending !== null) print(pending)
    },
  }
}

/** `51,200 events/s, ETA 3s` from a rebuild's published progress. */
export function rateDetail(eventsPerSecond: number, etaMs: number, unit = 'events'): string {
  const parts: string[] = []
  if (eventsPerSecond > 0) parts.push(`${formatCount(eventsPerSecond)} ${unit}/s`)
  if (etaMs > 0 && Number.isFinite(etaMs)) parts.push(`ETA ${formatDuration(etaMs)}`)
  return parts.join(', ')
}

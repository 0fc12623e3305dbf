import type { CliIo, CliStream } from '../src/cli-io.js'

/** A stream that records what is written; `isTTY` makes it look like a terminal. */
export interface RecordingStream extends CliStream {
  readonly text: string
}

/** A {@link RecordingStream} for tests of the in-process CLI. */
export function recordingStream(isTTY = false): RecordingStream {
  let text = ''
  return {
    isTTY,
    columns: 120,
    write(chunk: string) {
      text += chunk
      return true
    },
    get text() {
      return text
    },
  }
}

/** An io whose streams record; `env` is empty unless given. */
export function recordingIo(
  options: { tty?: boolean; env?: Record<string, string>; signal?: AbortSignal } = {},
): CliIo & { stdout: RecordingStream; stderr: RecordingStream } {
  const io = {
    stdout: recordingStream(options.tty === true),
    stderr: recordingStream(options.tty === true),
    env: options.env ?? {},
  }
  return options.signal === undefined ? io : { ...io, signal: options.signal }
}

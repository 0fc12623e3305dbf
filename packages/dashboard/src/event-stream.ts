/** Sends one server-sent event; false once the stream is closed. */
export type SendEvent = (event: string, data: unknown) => boolean

const encoder = new TextEncoder()
const HEARTBEAT_MS = 15_000

/**
 * A `text/event-stream` response. `open` starts pushing through `send` and returns what stops it;
 * that runs when the client goes away, the request is aborted, or `close` of the returned handle.
 */
export function eventStreamResponse(
  open: (send: SendEvent) => () => void,
  signal: AbortSignal | undefined,
  headers: Record<string, string>,
): { response: Response; close: () => void } {
  let finish: () => void = () => {}
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let done = false
      let stop: (() => void) | undefined
      const write = (text: string): boolean => {
        if (done) return false
        try {
          controller.enqueue(encoder.encode(text))
          return true
        } catch {
          finish()
          return false
        }
      }
      const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS)
      heartbeat.unref?.()
      finish = () => {
        if (done) return
        done = true
        clearInterval(heartbeat)
        signal?.removeEventListener('abort', finish)
        stop?.()
        try {
          controller.close()
        } catch {
          // already closed by the client
        }
      }
      signal?.addEventListener('abort', finish, { once: true })
      write('retry: 2000\n\n')
      const stopOpened = open((event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`))
      // the stream may have ended while it opened
      if (done) stopOpened()
      else stop = stopOpened
      if (signal?.aborted) finish()
    },
    cancel() {
      finish()
    },
  })
  const response = new Response(stream, {
    headers: {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    },
  })
  return { response, close: () => finish() }
}

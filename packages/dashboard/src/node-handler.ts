import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

/**
 * A Node `http` request listener.
 *
 * @example
 * ```ts
 * const listener: NodeRequestListener = toNodeHandler(createDashboard({ collector }))
 * ```
 */
export type NodeRequestListener = (request: IncomingMessage, response: ServerResponse) => void

/** Write requests of the dashboard carry no body worth more than this. */
const MAX_BODY_BYTES = 64 * 1024

/**
 * Adapts a web-standard handler `(request: Request) => Promise<Response>` (the dashboard, the
 * metrics handler) to Node's `http.createServer`. The request's URL is built from its `Host`
 * header, so the dashboard's same-origin check compares against the address the browser used.
 * A response body (the live stream) is cancelled when the client goes away.
 *
 * @example
 * ```ts
 * import http from 'node:http'
 * const dashboard = createDashboard({ collector, token: process.env.ESKIT_DASHBOARD_TOKEN })
 * http.createServer(toNodeHandler(dashboard)).listen(4000, '127.0.0.1')
 * ```
 */
export function toNodeHandler(handler: (request: Request) => Promise<Response>): NodeRequestListener {
  return (incoming, outgoing) => {
    serve(handler, incoming, outgoing).catch(() => {
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
      outgoing.end('internal error\n')
    })
  }
}

async function serve(
  handler: (request: Request) => Promise<Response>,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
): Promise<void> {
  const controller = new AbortController()
  outgoing.on('close', () => controller.abort())
  const encrypted = (incoming.socket as { encrypted?: boolean }).encrypted === true
  const host = incoming.headers.host ?? 'localhost'
  const url = new URL(incoming.url ?? '/', `${encrypted ? 'https' : 'http'}://${host}`)
  const headers = new Headers()
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one)
  }
  const method = incoming.method ?? 'GET'
  let body: Uint8Array | undefined
  if (method !== 'GET' && method !== 'HEAD') {
    body = await readBody(incoming)
    if (body === undefined) {
      outgoing.writeHead(413, { 'content-type': 'text/plain; charset=utf-8' })
      outgoing.end('request body too large\n')
      return
    }
  }
  const request = new Request(url, {
    method,
    headers,
    signal: controller.signal,
    ...(body === undefined ? {} : { body }),
  })
  const response = await handler(request)
  const responseHeaders: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    responseHeaders[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) responseHeaders['set-cookie'] = cookies
  outgoing.writeHead(response.status, responseHeaders)
  if (response.body === null || method === 'HEAD') {
    await response.body?.cancel()
    outgoing.end()
    return
  }
  const stream = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)
  controller.signal.addEventListener('abort', () => stream.destroy(), { once: true })
  stream.on('error', () => outgoing.destroy())
  // flush each chunk of the live stream at once
  outgoing.flushHeaders()
  stream.pipe(outgoing)
}

async function readBody(incoming: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of incoming) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}

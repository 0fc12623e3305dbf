// A client spreading continuous reads and writes over the yoyopass nodes that are up, as a load
// balancer would: a node taken out of the rotation gets no new request, and `down` resolves once
// the requests it already had are answered (the node can then be stopped).

/** One acknowledged write: the pass it issued and the log position it returned. */
export interface AcknowledgedWrite {
  readonly passId: string
  readonly position: number
  readonly node: string
}

/** One request that failed, went empty or did not see a write it waited for. */
export interface FailedRequest {
  readonly node: string
  readonly route: string
  readonly reason: string
}

export interface LoadStats {
  readonly requests: number
  readonly reads: number
  readonly writes: number
  readonly failures: readonly FailedRequest[]
  readonly acknowledged: readonly AcknowledgedWrite[]
  /** Requests answered so far, per node. */
  answeredBy(node: string): number
  /** Latency percentile in ms over every request (100 = the slowest). */
  percentile(p: number): number
}

export interface LoadClient {
  /** The figures so far (live: they grow while the client runs). */
  readonly stats: LoadStats
  /** Puts a node (back) into the rotation. */
  up(node: string, url: string): void
  /** Takes a node out of the rotation; resolves once it has no request in flight. */
  down(node: string): Promise<void>
  start(): void
  /** Resolves once `condition` holds for the stats so far (checked as requests complete). */
  until(condition: (stats: LoadStats) => boolean, timeoutMs?: number): Promise<void>
  /** Stops the workers after their current request. */
  stop(): Promise<LoadStats>
}

export function createLoadClient(options: {
  serviceId: string
  concurrency: number
  holder?: string
}): LoadClient {
  const holder = options.holder ?? 'rolling-deploy'
  const nodes = new Map<string, string>()
  const inFlight = new Map<string, number>()
  const drained = new Map<string, () => void>()
  const latencies: number[] = []
  const failures: FailedRequest[] = []
  const acknowledged: AcknowledgedWrite[] = []
  let reads = 0
  let writes = 0
  let turn = 0
  let running = false
  let workers: Promise<void>[] = []
  const checks = new Set<() => void>()
  const answered = new Map<string, number>()

  const stats: LoadStats = {
    get requests() {
      return latencies.length
    },
    get reads() {
      return reads
    },
    get writes() {
      return writes
    },
    failures,
    acknowledged,
    answeredBy: (node) => answered.get(node) ?? 0,
    percentile(p) {
      if (latencies.length === 0) return 0
      const sorted = [...latencies].sort((a, b) => a - b)
      const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
      return Math.round((sorted[Math.max(0, index)] ?? 0) * 10) / 10
    },
  }

  const pick = (): [string, string] | undefined => {
    const up = [...nodes.entries()]
    if (up.length === 0) return undefined
    turn = (turn + 1) % up.length
    return up[turn]
  }

  const request = async (
    node: string,
    url: string,
    method: string,
    route: string,
    body?: unknown,
  ): Promise<{ status: number; body: any } | { error: string }> => {
    inFlight.set(node, (inFlight.get(node) ?? 0) + 1)
    const started = performance.now()
    try {
      const init: RequestInit =
        body === undefined
          ? { method }
          : { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      const res = await fetch(`${url}${route}`, init)
      const text = await res.text()
      answered.set(node, (answered.get(node) ?? 0) + 1)
      return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined }
    } catch (error) {
      return {
        error: error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error),
      }
    } finally {
      latencies.push(performance.now() - started)
      const left = (inFlight.get(node) ?? 1) - 1
      inFlight.set(node, left)
      if (left === 0 && !nodes.has(node)) drained.get(node)?.()
      for (const check of checks) check()
    }
  }

  const fail = (node: string, route: string, reason: string): void => {
    failures.push({ node, route, reason })
  }

  const once = async (): Promise<void> => {
    const target = pick()
    if (target === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return
    }
    const [node, url] = target
    const roll = Math.random()
    if (roll < 0.25) {
      const route = '/passes'
      const res = await request(node, url, 'POST', route, { serviceId: options.serviceId, holder })
      writes += 1
      if ('error' in res) return fail(node, route, res.error)
      if (res.status !== 201 || typeof res.body?.position !== 'number') {
        return fail(node, route, `${res.status} ${JSON.stringify(res.body)}`)
      }
      acknowledged.push({ passId: res.body.passId, position: res.body.position, node })
      return
    }
    reads += 1
    const recent = acknowledged.at(-1 - Math.floor(Math.random() * Math.min(5, acknowledged.length)))
    if (roll < 0.6 && recent !== undefined) {
      // read-your-writes across nodes: a write acknowledged by any node, read on this one
      const route = `/passes/${recent.passId}?after=${recent.position}`
      const res = await request(node, url, 'GET', route)
      if ('error' in res) return fail(node, route, res.error)
      if (res.status !== 200 || res.body?.passId !== recent.passId) {
        fail(node, route, `${res.status} ${JSON.stringify(res.body)}`)
      }
      return
    }
    const route = roll < 0.8 ? `/passes?serviceId=${options.serviceId}&limit=5` : '/services'
    const res = await request(node, url, 'GET', route)
    if ('error' in res) return fail(node, route, res.error)
    const rows = route === '/services' ? res.body?.services : res.body?.passes
    if (res.status !== 200 || !Array.isArray(rows) || rows.length === 0) {
      fail(node, route, `${res.status} ${JSON.stringify(res.body)}`)
    }
  }

  return {
    stats,
    up(node, url) {
      nodes.set(node, url)
    },
    down(node) {
      nodes.delete(node)
      if ((inFlight.get(node) ?? 0) === 0) return Promise.resolve()
      return new Promise((resolve) => drained.set(node, resolve))
    },
    start() {
      running = true
      workers = Array.from({ length: options.concurrency }, async () => {
        while (running) await once()
      })
    },
    until(condition, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          checks.delete(check)
          reject(new Error(`load condition not met in ${timeoutMs} ms: ${stats.requests} requests`))
        }, timeoutMs)
        const check = (): void => {
          if (!condition(stats)) return
          clearTimeout(timer)
          checks.delete(check)
          resolve()
        }
        checks.add(check)
        check()
      })
    },
    async stop() {
      running = false
      await Promise.all(workers)
      return stats
    },
  }
}

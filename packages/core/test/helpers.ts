import type {
  EventStore,
  LogFields,
  Logger,
  MemoryConnection,
  Projection,
  ProjectionSlot,
  ProjectionStore,
  ReadAllOptions,
  StoredEvent,
} from '../src/index.js'

/** A logger that keeps every line, for assertions on what was logged. */
export interface CapturedLogger extends Logger {
  readonly lines: Array<{ level: string; message: string; fields: LogFields | undefined }>
  has(level: string, message: string): boolean
}

export function captureLogger(): CapturedLogger {
  const lines: CapturedLogger['lines'] = []
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields })
    }
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    has: (level, message) => lines.some((line) => line.level === level && line.message.includes(message)),
  }
}

/** Controls a {@link rowsProjection} from a test. */
export interface Control {
  /** Positions handed to apply (also for rolled-back batches). */
  applied: number[]
  /** A value to throw for this event, or undefined. */
  throwOn?: (event: StoredEvent) => unknown
  /** When set, apply awaits it before writing (apply becomes async). */
  hold?: Promise<void>
  /** setup throws this when set. */
  setupThrows?: unknown
}

/** A projection that stores one row per event in table `rows`: `{ position, type, version }`. */
export function rowsProjection(
  name: string,
  options: { version?: string; eventTypes?: string[]; control?: Control } = {},
): Projection<MemoryConnection> {
  const version = options.version ?? '1'
  const control = options.control ?? { applied: [] }
  const write = (events: readonly StoredEvent[], conn: MemoryConnection): void => {
    for (const event of events) {
      const failure = control.throwOn?.(event)
      if (failure !== undefined) throw failure
      conn.table('rows').set(event.position, { position: event.position, type: event.type, version })
    }
  }
  const projection: Projection<MemoryConnection> = {
    name,
    version,
    setup(conn) {
      if (control.setupThrows !== undefined) throw control.setupThrows
      conn.createTable('rows')
    },
    apply(events, conn) {
      control.applied.push(...events.map((event) => event.position))
      const hold = control.hold
      if (hold) return hold.then(() => write(events, conn))
      write(events, conn)
    },
  }
  if (options.eventTypes) projection.eventTypes = options.eventTypes
  return projection
}

/** Positions of the rows a {@link rowsProjection} wrote, read through a reader. */
export function positionsOf(conn: MemoryConnection): number[] {
  return conn
    .table<{ position: number }>('rows')
    .values()
    .map((row) => row.position)
    .sort((a, b) => a - b)
}

/** Appends `count` events `{ n }` one by one; position p has type A, B, C for p % 3 = 1, 2, 0. */
export async function appendMany(events: EventStore, count: number): Promise<number> {
  let last = 0
  for (let i = 0; i < count; i++) {
    const head = await events.head()
    const type = ['A', 'B', 'C'][head % 3] as string
    last = (await events.append(`s-${head % 5}`, [{ type, data: { n: head + 1 } }])).position
  }
  return last
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
}

/** An event store wrapper that records every readAll and can hold reads until released. */
export interface RecordingEvents extends EventStore {
  readonly reads: ReadAllOptions[]
  hold(predicate: (options: ReadAllOptions) => boolean): void
  release(): void
}

export function recording(events: EventStore): RecordingEvents {
  let predicate: ((options: ReadAllOptions) => boolean) | undefined
  let released: Promise<void> = Promise.resolve()
  let open = (): void => {}
  const reads: ReadAllOptions[] = []
  return {
    id: events.id,
    reads,
    append: (streamId, batch, options) => events.append(streamId, batch, options),
    async readAll(options) {
      reads.push(options)
      while (predicate?.(options)) await released
      return events.readAll(options)
    },
    readStream: (streamId) => events.readStream(streamId),
    head: () => events.head(),
    onAppend: (listener) => events.onAppend(listener),
    close: () => events.close(),
    hold(next) {
      predicate = next
      released = new Promise((resolve) => {
        open = resolve
      })
    },
    release() {
      predicate = undefined
      open()
    },
  }
}

/** Wraps a store so a test can inject faults into openSlot and into every slot. */
export function faulty<Conn>(
  inner: ProjectionStore<Conn>,
  faults: {
    openSlot?: (name: string) => unknown
    commit?: (name: string) => unknown
    check?: (name: string) => 'ok' | 'lost'
  },
): ProjectionStore<Conn> {
  const wrapSlot = (slot: ProjectionSlot): ProjectionSlot => ({
    name: slot.name,
    state: () => slot.state(),
    initialize: (init) => slot.initialize(init),
    async commit(batch) {
      const fault = faults.commit?.(slot.name)
      if (fault !== undefined) throw fault
      return slot.commit(batch)
    },
    parked: () => slot.parked(),
    close: () => slot.close(),
    ...(faults.check ? { check: () => faults.check?.(slot.name) ?? 'ok' } : {}),
  })
  const store: ProjectionStore<Conn> = {
    kind: inner.kind,
    capabilities: faults.check ? { ...inner.capabilities, detectsLoss: true } : inner.capabilities,
    open: (context) => inner.open(context),
    async openSlot(projection) {
      const fault = faults.openSlot?.(projection.name)
      if (fault !== undefined) throw fault
      return wrapSlot(await inner.openSlot(projection))
    },
    reader: (name) => inner.reader(name),
    close: () => inner.close(),
  }
  if (inner.beginBuild) {
    const begin = inner.beginBuild.bind(inner)
    store.beginBuild = async (projection) => begin(projection)
  }
  if (inner.takeRequests) store.takeRequests = inner.takeRequests.bind(inner)
  if (inner.publishStatus) store.publishStatus = inner.publishStatus.bind(inner)
  return store
}

/** Polls until `check` is true, at most `timeoutMs`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {}
  const promise = new Promise<void>((done) => {
    resolve = done
  })
  return { promise, resolve }
}

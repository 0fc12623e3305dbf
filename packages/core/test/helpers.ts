import type { EventStore, MemoryConnection, Projection, ReadAllOptions, StoredEvent } from '../src/index.js'

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

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {}
  const promise = new Promise<void>((done) => {
    resolve = done
  })
  return { promise, resolve }
}

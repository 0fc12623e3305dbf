import { parentPort, workerData } from 'node:worker_threads'
import type { BuildAssignment, BuildDrop, BuildMember, BuildReport } from './build-worker-protocol.js'
import { messageOf } from './error-text.js'
import { EskitError } from './eskit-error.js'
import type { StoredEvent } from './event.js'
import type { EventStore } from './event-store.js'
import type { Projection } from './projection.js'
import type { ProjectionSlot } from './projection-store.js'
import { createReadAhead } from './read-ahead.js'
import type { WorkerSource } from './worker-source.js'

// The entry of a build worker thread: it reopens the log and the lent builds, commits shared
// batches up to the target and reports each checkpoint. The main thread swaps the builds in.

const importExport = async (source: { module: string; export: string }): Promise<unknown> => {
  const loaded = (await import(source.module)) as Record<string, unknown>
  if (!(source.export in loaded)) {
    throw new EskitError('INVALID_ARGUMENT', `${source.module} has no export ${source.export}`, {
      details: { ...source },
    })
  }
  return loaded[source.export]
}

const openWith = async <T>(source: WorkerSource, ...args: unknown[]): Promise<T> => {
  const open = await importExport(source)
  if (typeof open !== 'function') {
    throw new EskitError('INVALID_ARGUMENT', `${source.module}#${source.export} is not a function`)
  }
  return (await open(source.options, ...args)) as T
}

const loadProjection = async (member: BuildMember): Promise<Projection<unknown>> => {
  const projection = (await importExport(member.projection)) as Projection<unknown> | undefined
  if (
    typeof projection !== 'object' ||
    projection === null ||
    projection.name !== member.name ||
    projection.version !== member.version ||
    typeof projection.apply !== 'function'
  ) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `${member.projection.module}#${member.projection.export} is not projection ${member.name} version ${member.version}`,
      { details: { name: member.name } },
    )
  }
  return projection
}

/** The store's EskitError may come from another copy of this module: duck-typed. */
const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

interface Running {
  readonly member: BuildMember
  readonly wanted: ReadonlySet<string> | null
  slot: ProjectionSlot
  position: number
}

/** One turn of the event loop: lets a `drop` message in between batches. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const run = async (assignment: BuildAssignment, report: (message: BuildReport) => void): Promise<void> => {
  const dropped = new Set<string>()
  parentPort?.on('message', (message: BuildDrop) => {
    if (message?.kind === 'drop') dropped.add(message.name)
  })
  const running: Running[] = []
  let log: EventStore | undefined
  const end = async (entry: Running, outcome: BuildReport): Promise<void> => {
    running.splice(running.indexOf(entry), 1)
    await entry.slot.close().catch(() => {})
    report(outcome)
  }
  try {
    log = await openWith<EventStore>(assignment.log)
  } catch (error) {
    for (const member of assignment.members) {
      report({
        kind: 'failed',
        name: member.name,
        position: assignment.from,
        message: messageOf(error),
        code: codeOf(error),
      })
    }
    return
  }
  for (const member of assignment.members) {
    try {
      const projection = await loadProjection(member)
      const slot = await openWith<ProjectionSlot>(member.build, projection)
      const wanted = member.types === null ? null : new Set(member.types)
      running.push({ member, wanted, slot, position: assignment.from })
    } catch (error) {
      report({
        kind: 'failed',
        name: member.name,
        position: assignment.from,
        message: messageOf(error),
        code: codeOf(error),
      })
    }
  }
  try {
    let position = assignment.from
    const limit = assignment.batchSize
    const reads = createReadAhead(log, limit)
    while (running.length > 0 && position < assignment.target) {
      for (const entry of [...running]) {
        if (dropped.has(entry.member.name))
          await end(entry, { kind: 'done', name: entry.member.name, position })
      }
      if (running.length === 0) break
      let types: string[] | undefined
      if (running.every((entry) => entry.wanted !== null)) {
        const union = new Set<string>()
        for (const entry of running) for (const type of entry.wanted ?? []) union.add(type)
        types = [...union]
      }
      const read = (await reads.read(position, types, false)).batch
      const last = read[read.length - 1]
      const to = read.length >= limit && last ? Math.min(last.position, assignment.target) : assignment.target
      // the next batch is read while this one is applied
      if (to < assignment.target && reads.ahead(to, types, false)) await turn()
      const batch: readonly StoredEvent[] = Object.freeze(
        last && last.position > to ? read.filter((event) => event.position <= to) : read,
      )
      for (const entry of [...running]) {
        const wanted = entry.wanted
        const events =
          wanted === null || (types !== undefined && wanted.size === types.length)
            ? batch
            : batch.filter((event) => wanted.has(event.type))
        try {
          await entry.slot.commit({ from: position, to, events })
          entry.position = to
          report({ kind: 'progress', name: entry.member.name, position: to })
        } catch (error) {
          await end(entry, {
            kind: 'failed',
            name: entry.member.name,
            position,
            message: messageOf(error),
            code: codeOf(error),
          })
        }
      }
      position = to
      await turn()
    }
    for (const entry of [...running])
      await end(entry, { kind: 'done', name: entry.member.name, position: entry.position })
  } catch (error) {
    // the log itself failed: every build goes on on the main thread from its checkpoint
    for (const entry of [...running]) {
      await end(entry, {
        kind: 'failed',
        name: entry.member.name,
        position: entry.position,
        message: messageOf(error),
        code: codeOf(error),
      })
    }
  } finally {
    await log.close().catch(() => {})
    parentPort?.removeAllListeners('message')
  }
}

if (parentPort) {
  const port = parentPort
  void run(workerData as BuildAssignment, (message) => port.postMessage(message))
}

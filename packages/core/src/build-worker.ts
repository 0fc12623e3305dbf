import { parentPort, workerData } from 'node:worker_threads'
import type { BuildAssignment, BuildReport } from './build-worker-protocol.js'
import { messageOf } from './error-text.js'
import { EskitError } from './eskit-error.js'
import type { StoredEvent } from './event.js'
import type { EventStore } from './event-store.js'
import type { Projection } from './projection.js'
import type { ProjectionSlot } from './projection-store.js'
import type { WorkerSource } from './worker-source.js'

// The entry of a build worker thread: it reopens the log and the lent build, commits batches up to
// the target and reports each checkpoint. The main thread swaps the build in.

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

const loadProjection = async (assignment: BuildAssignment): Promise<Projection<unknown>> => {
  const projection = (await importExport(assignment.projection)) as Projection<unknown> | undefined
  if (
    typeof projection !== 'object' ||
    projection === null ||
    projection.name !== assignment.name ||
    projection.version !== assignment.version ||
    typeof projection.apply !== 'function'
  ) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `${assignment.projection.module}#${assignment.projection.export} is not projection ${assignment.name} version ${assignment.version}`,
      { details: { name: assignment.name } },
    )
  }
  return projection
}

const run = async (assignment: BuildAssignment, report: (message: BuildReport) => void): Promise<void> => {
  let position = assignment.from
  let log: EventStore | undefined
  let slot: ProjectionSlot | undefined
  try {
    const projection = await loadProjection(assignment)
    log = await openWith<EventStore>(assignment.log)
    slot = await openWith<ProjectionSlot>(assignment.build, projection)
    const types = assignment.types ?? undefined
    const limit = assignment.batchSize
    while (position < assignment.target) {
      const batch: readonly StoredEvent[] = Object.freeze(
        await log.readAll(
          types === undefined ? { after: position, limit } : { after: position, limit, types },
        ),
      )
      const last = batch[batch.length - 1]
      const to =
        batch.length >= limit && last ? Math.min(last.position, assignment.target) : assignment.target
      const events = last && last.position > to ? batch.filter((event) => event.position <= to) : batch
      await slot.commit({ from: position, to, events })
      position = to
      report({ kind: 'progress', position })
    }
    await slot.close()
    slot = undefined
    report({ kind: 'done', position })
  } catch (error) {
    // duck-typed: the store's EskitError may come from another copy of this module
    const code =
      typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined
    if (slot) await slot.close().catch(() => {})
    slot = undefined
    report({ kind: 'failed', position, message: messageOf(error), code })
  } finally {
    if (slot) await slot.close().catch(() => {})
    await log?.close().catch(() => {})
  }
}

if (parentPort) {
  const port = parentPort
  void run(workerData as BuildAssignment, (message) => port.postMessage(message))
}

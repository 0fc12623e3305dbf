/**
 * The reference workload of DESIGN.md: events over a fixed number of pass streams, every third
 * `PassIssued`, the rest `PassScanned`; the read model `passes(id, holder, scans, last_at)` gets
 * one upsert or one update per event.
 *
 * Events come in groups of three on one stream (issued, scanned, scanned), groups round-robin
 * over the streams, so every scan updates an existing row and a stream is re-issued (an upsert
 * that changes the holder) when the groups wrap. Event `i` depends only on `i`: a smaller
 * workload is a prefix of a larger one, so logs can be grown instead of rebuilt.
 */

/** Streams of the reference workload. */
export const REFERENCE_STREAMS = 20_000
/** Events of the reference workload. */
export const REFERENCE_EVENTS = 200_000

export interface PassIssued {
  type: 'PassIssued'
  data: { passId: string; holder: string }
}
export interface PassScanned {
  type: 'PassScanned'
  data: { passId: string; gate: string; at: number }
}
/** The workload's event union. */
export type PassEvent = PassIssued | PassScanned

/** One event of the workload with the stream it is appended to. */
export interface WorkloadEvent {
  streamId: string
  event: PassEvent
}

/** A row of the `passes` view. */
export interface PassRow {
  id: string
  holder: string
  scans: number
  last_at: number | null
}

/** 2026-01-01T00:00:00Z: scan times are deterministic so every implementation writes the same rows. */
const EPOCH_MS = 1_767_225_600_000

/** The stream id of a pass. */
export function streamOf(passId: string): string {
  return `pass-${passId}`
}

/**
 * Event number `index` (0-based) of the workload.
 *
 * @example
 * ```ts
 * workloadEvent(0, 20_000) // { streamId: 'pass-p0', event: { type: 'PassIssued', ... } }
 * ```
 */
export function workloadEvent(index: number, streams: number = REFERENCE_STREAMS): WorkloadEvent {
  const group = Math.floor(index / 3)
  const passId = `p${group % streams}`
  const streamId = streamOf(passId)
  if (index % 3 === 0) {
    return { streamId, event: { type: 'PassIssued', data: { passId, holder: `holder-${group}` } } }
  }
  return {
    streamId,
    event: { type: 'PassScanned', data: { passId, gate: `gate-${index % 7}`, at: EPOCH_MS + index * 1000 } },
  }
}

/**
 * Appends of the workload, grouped as they are appended: one group = consecutive events of one
 * stream (an issue and its scans), between `from` (inclusive) and `to` (exclusive).
 */
export function* workloadGroups(
  from: number,
  to: number,
  streams: number = REFERENCE_STREAMS,
): Generator<{ streamId: string; events: PassEvent[] }> {
  let current: { streamId: string; events: PassEvent[] } | undefined
  for (let i = from; i < to; i++) {
    const { streamId, event } = workloadEvent(i, streams)
    if (current && (current.streamId !== streamId || event.type === 'PassIssued')) {
      yield current
      current = undefined
    }
    if (!current) current = { streamId, events: [] }
    current.events.push(event)
  }
  if (current) yield current
}

/**
 * Applies one event to an in-memory model of the view: the reference every implementation's
 * rows are compared against.
 */
export function applyToModel(model: Map<string, PassRow>, event: PassEvent): void {
  if (event.type === 'PassIssued') {
    const row = model.get(event.data.passId)
    if (row) row.holder = event.data.holder
    else
      model.set(event.data.passId, {
        id: event.data.passId,
        holder: event.data.holder,
        scans: 0,
        last_at: null,
      })
    return
  }
  const row = model.get(event.data.passId)
  if (row) {
    row.scans += 1
    row.last_at = event.data.at
  }
}

/** The expected view after the first `events` events. */
export function expectedView(events: number, streams: number = REFERENCE_STREAMS): Map<string, PassRow> {
  const model = new Map<string, PassRow>()
  for (let i = 0; i < events; i++) applyToModel(model, workloadEvent(i, streams).event)
  return model
}

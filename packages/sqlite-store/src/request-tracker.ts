import type { Logger, ProjectionStatus, StoreRequest } from '@eskit/core'
import { type RequestResult, type RequestState, writeRequestResult } from './requests.js'

/**
 * Follows rebuild requests taken from `.eskit/requests/` until they end, writing each change to
 * `.eskit/results/{id}.json`: `accepted` when taken; `done` when the rebuilt file is swapped in
 * (or, for an in-place rebuild, when the projection is live again after rebuilding); `failed`
 * when the projection fails after the request was taken (also during a first build that never
 * reached `rebuilding`); `closed` when the store closes first (a graceful stop of the owner).
 */
export interface RequestTracker {
  /** `current` is the projection's status when the request was taken (its error, if failed). */
  accepted(request: StoreRequest, current: ProjectionStatus | undefined): void
  rejected(request: StoreRequest, message: string): void
  swapped(name: string, position: number): void
  observe(status: readonly ProjectionStatus[]): void
  abandon(message: string): void
}

/** Where a taken request stands: waiting for the rebuild to begin, or following it. */
type Phase = 'accepted' | 'rebuilding'

interface Pending {
  readonly request: StoreRequest
  phase: Phase
  /** The failure the projection already had when the request was taken: not the rebuild's. */
  readonly failureBefore: ProjectionStatus['error'] | undefined
}

const sameFailure = (a: ProjectionStatus['error'], b: ProjectionStatus['error']): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.position === b.position &&
  a.attempts === b.attempts &&
  a.message === b.message

export function createRequestTracker(dir: string, logger: Logger): RequestTracker {
  const pending = new Map<string, Pending>()
  const write = (request: StoreRequest, state: RequestState, extra: Partial<RequestResult> = {}): void => {
    try {
      writeRequestResult(dir, {
        id: request.id,
        name: request.name,
        state,
        ...extra,
        updatedAt: new Date().toISOString(),
      })
    } catch (error) {
      logger.warn('could not write the result of a rebuild request', {
        id: request.id,
        name: request.name,
        state,
        error: error instanceof Error ? error.message : String(error),
      })
    }
  }
  const end = (item: Pending, state: RequestState, extra: Partial<RequestResult>): void => {
    pending.delete(item.request.id)
    write(item.request, state, extra)
  }
  return {
    accepted(request, current) {
      const failureBefore = current?.state === 'failed' ? current.error : undefined
      // a rebuild already under way (a first build, a new version) is the one the request gets
      const phase: Phase = current?.state === 'rebuilding' ? 'rebuilding' : 'accepted'
      pending.set(request.id, { request, phase, failureBefore })
      write(request, 'accepted')
    },
    rejected(request, message) {
      write(request, 'rejected', { message })
    },
    swapped(name, position) {
      for (const item of [...pending.values()]) {
        if (item.request.name === name) end(item, 'done', { position })
      }
    },
    observe(status) {
      for (const item of [...pending.values()]) {
        const current = status.find((s) => s.name === item.request.name)
        if (!current) continue
        switch (current.state) {
          case 'rebuilding':
            item.phase = 'rebuilding'
            break
          case 'failed':
            // A projection failing in its first build never shows `rebuilding` again: any failure
            // other than the one it had when the request was taken is the rebuild's.
            if (item.phase === 'rebuilding' || !sameFailure(item.failureBefore, current.error)) {
              end(item, 'failed', {
                message: current.error?.message ?? 'the rebuild failed',
                position: current.position,
              })
            }
            break
          case 'live':
          case 'catching-up':
            if (item.phase === 'rebuilding') end(item, 'done', { position: current.position })
            break
          default:
            break
        }
      }
    },
    abandon(message) {
      for (const item of [...pending.values()]) end(item, 'closed', { message })
    },
  }
}

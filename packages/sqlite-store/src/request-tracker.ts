import type { Logger, ProjectionStatus, StoreRequest } from '@eskit/core'
import { type RequestResult, type RequestState, writeRequestResult } from './requests.js'

/**
 * Follows rebuild requests taken from `.eskit/requests/` until they end, writing each change to
 * `.eskit/results/{id}.json`: `accepted` when taken, `done` when the rebuilt file is swapped in
 * (or, for an in-place rebuild, when the projection is live again after rebuilding), `failed`
 * when it failed after rebuilding began or the store closed first.
 */
export interface RequestTracker {
  accepted(request: StoreRequest): void
  rejected(request: StoreRequest, message: string): void
  swapped(name: string, position: number): void
  observe(status: readonly ProjectionStatus[]): void
  abandon(message: string): void
}

interface Pending {
  readonly request: StoreRequest
  sawRebuilding: boolean
}

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
    accepted(request) {
      pending.set(request.id, { request, sawRebuilding: false })
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
        if (current.state === 'rebuilding') item.sawRebuilding = true
        else if (item.sawRebuilding && current.state === 'failed') {
          end(item, 'failed', {
            message: current.error?.message ?? 'the rebuild failed',
            position: current.position,
          })
        } else if (item.sawRebuilding && (current.state === 'live' || current.state === 'catching-up')) {
          end(item, 'done', { position: current.position })
        }
      }
    },
    abandon(message) {
      for (const item of [...pending.values()]) end(item, 'failed', { message })
    },
  }
}

import type { ProjectionStatus } from '@eskit/core'

/**
 * Counts the events each projection has processed (log positions it moved past, its rebuilds
 * included) from successive status samples: a Prometheus counter that only goes up.
 */
export interface EventsCounter {
  observe(status: ProjectionStatus): void
  /** A rebuild completed at `position`: what it did since the last sample (all of it if none saw it run). */
  rebuilt(name: string, position: number): void
  total(name: string): number
}

interface Track {
  /** Where the projection's work stands: the rebuild's position while one runs, else its checkpoint. */
  work: number
  rebuilding: boolean
  total: number
}

export function createEventsCounter(): EventsCounter {
  const tracks = new Map<string, Track>()
  return {
    observe(status) {
      const rebuilding = status.rebuild !== undefined
      const work = status.rebuild?.position ?? status.position
      const track = tracks.get(status.name)
      if (!track) {
        // first sight: counting starts here, what was done before is not this process's work
        tracks.set(status.name, { work, rebuilding, total: 0 })
        return
      }
      // a rebuild that began (or data that started over) counts from 0, not from the old checkpoint
      const startedOver = (rebuilding && !track.rebuilding) || work < track.work
      track.total += startedOver ? work : work - track.work
      track.work = work
      track.rebuilding = rebuilding
    },
    rebuilt(name, position) {
      const track = tracks.get(name)
      if (!track) {
        tracks.set(name, { work: position, rebuilding: false, total: 0 })
        return
      }
      track.total += track.rebuilding ? Math.max(0, position - track.work) : position
      track.work = position
      track.rebuilding = false
    },
    total: (name) => tracks.get(name)?.total ?? 0,
  }
}

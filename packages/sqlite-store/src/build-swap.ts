import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Logger, Projection, ProjectionBuild, ProjectionSlot } from '@eskit/core'
import { EskitError } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import type Database from 'better-sqlite3'
import { fsyncDirectory, fsyncFile, removeIfExists } from './durability.js'
import { ensureDirectory } from './ensure-directory.js'
import { createFileSlot, type FileSlot } from './file-slot.js'
import { type DirectoryLayout, projectionFilePath } from './layout.js'
import { workerBuildSource } from './worker-build.js'

/** A projection's live file as the store keeps it. */
export interface Live {
  /** The live slot (the collector holds a view of it), or null before `openSlot`. */
  slot: FileSlot | null
  /** The cached read-only connection to the live file. */
  reader: Database.Database | null
}

/** A build beside the live file. */
export interface Build {
  readonly slot: FileSlot
  finished: boolean
  /** Lent to a worker thread: its connection is closed here until `reclaim()`. */
  lent: boolean
}

/** What a build needs from the store that began it. */
export interface BuildHost {
  readonly dir: string
  readonly layout: DirectoryLayout
  readonly busyTimeoutMs: number
  readonly builds: Set<Build>
  /** The store's logger (the collector's, once opened). */
  readonly logger: Logger
  assertOpen(): void
  liveOf(name: string): Live
  closeReader(live: Live | undefined): void
  /** Opens (and trusts) the live file of a projection. */
  openLiveSlot(projection: Projection<Database.Database>, file: string): FileSlot
  /** The swap of `name` completed at `position` (a pending rebuild request is answered). */
  swapped(name: string, position: number): void
  discardBuild(build: Build): void
}

/**
 * The build/swap protocol: a build is a file under `.eskit/builds/`; `swap()` makes it durable
 * and self-contained, closes this process's connections to the old file, renames the build over
 * it (the atomic step), and reopens the live slot on the new file. A failed step leaves the old
 * file serving.
 */
export function createBuild(host: BuildHost, projection: Projection<Database.Database>): ProjectionBuild {
  const { dir, layout, busyTimeoutMs } = host
  const name = projection.name
  ensureDirectory(layout.builds)
  const file = path.join(layout.builds, `${name}.${randomBytes(6).toString('hex')}.db`)
  const slot = createFileSlot({ projection, file, mode: 'build', busyTimeoutMs, ensureSchema: true })
  const build: Build = { slot, finished: false, lent: false }
  host.builds.add(build)
  const assertPending = (): void => {
    if (build.finished) {
      throw new EskitError('INVALID_STATE', `the build of ${name} is already finished`, {
        details: { name },
      })
    }
  }
  const liveFile = projectionFilePath(dir, name)
  const assertHeld = (): void => {
    if (build.lent) {
      throw new EskitError('INVALID_STATE', `the build of ${name} is lent to a worker`, {
        details: { name },
      })
    }
  }

  const swap = async (): Promise<ProjectionSlot> => {
    host.assertOpen()
    assertPending()
    assertHeld()
    const built = await slot.state()
    if (built === null) {
      throw new EskitError('INVALID_STATE', `the build of ${name} is not initialised`, {
        details: { name },
      })
    }
    if (slot.connection().inTransaction) {
      throw new EskitError('INVALID_STATE', `the build of ${name} has a batch in flight`, {
        details: { name },
      })
    }
    // 1. Make the build durable and self-contained: rollback-journal mode (no WAL to lose), every
    //    page on disk. Its connection closes first: fsync through another descriptor would drop
    //    SQLite's locks on the file.
    try {
      slot.connection().pragma('journal_mode = DELETE')
      slot.detach(false)
      fsyncFile(file)
    } catch (error) {
      reattachBuild()
      throw toEskitError(error, `could not make the build of ${name} durable`, { name })
    }
    // From here to the rename nothing awaits: no reader call can run in between.
    const live = host.liveOf(name)
    const old = live.slot
    // 2. Close this process's connections to the old file. No checkpoint is forced: the old
    //    file is about to be replaced, and a reader in another process must not stall the swap.
    host.closeReader(live)
    old?.detach(false)
    // 3. The atomic step: the name now points to the new file, complete and durable.
    try {
      fs.renameSync(file, liveFile)
    } catch (error) {
      restoreOld(old)
      reattachBuild()
      throw toEskitError(error, `could not swap the build of ${name} in`, { name, file: liveFile })
    }
    build.finished = true
    host.builds.delete(build)
    slot.retire()
    old?.retire()
    if (live.slot === old) live.slot = null
    try {
      fsyncDirectory(dir)
      // 4. A -wal/-shm still beside the name belongs to the old inode: never pair it with the new file.
      removeIfExists(`${liveFile}-wal`)
      removeIfExists(`${liveFile}-shm`)
      // 5. Reopen the writer on the new file; readers reopen lazily on their next query.
      const fresh = host.openLiveSlot(projection, liveFile)
      live.slot = fresh
      host.swapped(name, built.position)
      host.logger.debug('projection build swapped in', {
        name,
        version: built.version,
        position: built.position,
      })
      return fresh
    } catch (error) {
      // The new file is in place; the collector notices the closed slot and reopens it.
      throw toEskitError(error, `swapped ${name} in but could not reopen it`, { name, file: liveFile })
    }
  }

  const reattachBuild = (): void => {
    try {
      slot.attach()
    } catch (error) {
      host.logger.warn('could not reopen a build after a failed swap', {
        name,
        error: (error as Error).message,
      })
    }
  }
  const restoreOld = (old: FileSlot | null): void => {
    if (!old) return
    try {
      old.attach()
    } catch (error) {
      host.logger.warn('could not reopen the live file after a failed swap', {
        name,
        error: (error as Error).message,
      })
    }
  }

  return {
    name,
    state: () => slot.state(),
    initialize: (init) => slot.initialize(init),
    commit: (batch) => slot.commit(batch),
    parked: () => slot.parked(),
    check: () => slot.check(),
    swap,
    lend() {
      host.assertOpen()
      assertPending()
      assertHeld()
      if (slot.connection().inTransaction) return null
      const source = workerBuildSource(file, busyTimeoutMs)
      if (source === null) return null
      // the exclusive lock of a build connection goes with it: the worker opens its own
      slot.detach(false)
      build.lent = true
      return source
    },
    reclaim() {
      assertPending()
      if (!build.lent) return
      build.lent = false
      try {
        slot.attach()
      } catch (error) {
        throw toEskitError(error, `could not take the build of ${name} back`, { name, file })
      }
    },
    async discard() {
      if (build.finished) return
      host.discardBuild(build)
    },
    async close() {
      // a build that is closed without being swapped in has no further use
      if (build.finished) return
      host.discardBuild(build)
    },
  }
}

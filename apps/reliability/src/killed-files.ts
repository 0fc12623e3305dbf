import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventStore } from '@eskit/core'
import { inspectDirectory } from '@eskit/sqlite-store'
import { dumpProjection } from '@eskit/test-kit/dump-projection'
import BetterSqlite3 from 'better-sqlite3'
import { freshDumps, logUpTo } from './fresh-build.ts'
import { type Generation, generationProjections, projectionOf } from './worker-projections.ts'

/** The build the kill interrupted in its worker, as the child reported it just before. */
export interface InterruptedBuild {
  name: string
  /** Where the worker started it, where it was to stop, and its last committed checkpoint. */
  from: number
  target: number
  position: number
}

/** Version and checkpoint of each live file, read without writing (no process owns the directory). */
export function filesOf(projectionsDir: string) {
  const info = inspectDirectory(projectionsDir)
  return new Map(info.projections.map((p) => [p.name, p]))
}

export type Files = ReturnType<typeof filesOf>

/**
 * The live files as the kill left them: each opens with its old version (or the new one, if its
 * swap came before the kill: never for the build the kill interrupted), its checkpoint not behind
 * the one it had before the child started, and data equal to a fresh build of its version up to
 * its checkpoint. After a first build (no file before), a file is absent, the empty one that
 * served meanwhile (checkpoint 0), or swapped in.
 */
export async function checkOldFiles(
  events: EventStore,
  projectionsDir: string,
  generation: Generation,
  before: Files,
  after: Files,
  interrupted: InterruptedBuild | null,
) {
  const problems: string[] = []
  let serving = 0
  const copy = mkdtempSync(join(tmpdir(), 'eskit-killed-'))
  try {
    // Dumped from a copy: opening the killed files would recover their WAL in place.
    cpSync(projectionsDir, copy, { recursive: true })
    for (const projection of generationProjections(generation)) {
      const name = projection.name
      const was = before.get(name)
      const now = after.get(name)
      // A first build (no file before the child) may leave nothing, or the empty live file that
      // served while it was built beside.
      if (was === undefined && now === undefined) continue
      if (was !== undefined && (!was.built || was.version === null || was.position === null)) {
        problems.push(`${name}: the file before the child started was not built`)
        continue
      }
      if (!now?.built || now.version === null || now.position === null || now.problem !== null) {
        problems.push(`${name}: no servable file after the kill (${now?.problem ?? 'missing'})`)
        continue
      }
      const swapped = now.version === projection.version && (was !== undefined || now.position > 0)
      if (was === undefined && now.version !== projection.version) {
        problems.push(`${name}: version ${now.version} from a first build of ${projection.version}`)
        continue
      }
      if (was !== undefined && !swapped && now.version !== was.version) {
        problems.push(`${name}: version ${now.version}, neither the old ${was.version} nor the new`)
        continue
      }
      if (was !== undefined && !swapped && now.position < (was.position ?? 0))
        problems.push(`${name}: checkpoint moved back from ${was.position} to ${now.position}`)
      if (swapped && interrupted?.name === name)
        problems.push(`${name}: swapped in although its worker build was interrupted`)
      const definition = projectionOf(name, now.version)
      if (!definition) {
        problems.push(`${name}: unknown version ${now.version}`)
        continue
      }
      const db = new BetterSqlite3(join(copy, `${name}.db`))
      let dump: string
      try {
        dump = dumpProjection(db).sha256
      } finally {
        db.close()
      }
      const fresh = await freshDumps(logUpTo(events, now.position), [definition], now.position)
      if (fresh.get(name) !== dump)
        problems.push(`${name}: data differs from a fresh build up to ${now.position}`)
      else if (!swapped && was !== undefined) serving++
    }
  } finally {
    rmSync(copy, { recursive: true, force: true })
  }
  return { serving, problems }
}

/** Every file under `.eskit/builds/`: build files and their SQLite companions. */
export function listBuilds(projectionsDir: string): string[] {
  try {
    return readdirSync(join(projectionsDir, '.eskit', 'builds'))
  } catch {
    return []
  }
}

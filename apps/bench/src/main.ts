/**
 * `pnpm bench` — eskit's performance figures, every one a ratio against a baseline measured in
 * the same run. Prints a table and writes JSON to `apps/bench/results/`.
 *
 *   node src/main.ts            full mode (DESIGN.md sizes, a few minutes)
 *   node src/main.ts --quick    CI smoke: every case and check on tiny sizes, seconds
 *   node src/main.ts --peers    also install (once, into .peers/) and measure Emmett
 *   node src/main.ts --only=1,6 only these cases
 *   node src/main.ts --fresh-logs  rebuild the event logs (full mode keeps them in .cache/)
 *   node src/main.ts --update-docs put the table into docs/performance.md (full mode)
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { FULL, QUICK } from './config.ts'
import { formatTable, machineLine, updateDocTable, writeReport } from './report.ts'
import { runBench } from './run.ts'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    peers: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    'fresh-logs': { type: 'boolean', default: false },
    'update-docs': { type: 'boolean', default: false },
  },
  allowPositionals: false,
})

const benchRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const config = values.quick ? QUICK : FULL
const peers = values.peers
const only = values.only?.split(',').map((n) => Number(n.trim()))
const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`)

log(`${config.mode} mode${peers ? ', with peers' : ''}; Node ${process.version}`)
// Full mode keeps its event logs (1M events take a while to append) for the next run.
const cacheDir = config.mode === 'full' ? path.join(benchRoot, '.cache') : undefined
if (cacheDir && values['fresh-logs']) fs.rmSync(path.join(cacheDir, 'logs'), { recursive: true, force: true })
const { report, failures } = await runBench({
  config,
  benchRoot,
  peers,
  ...(only ? { only } : {}),
  ...(cacheDir ? { cacheDir } : {}),
  log,
})
console.log('')
console.log(formatTable(report.rows))
console.log('')
console.log(machineLine(report))
console.log(`${config.mode} run took ${(report.durationMs / 1000).toFixed(1)} s`)
for (const file of writeReport(values.out ?? path.join(benchRoot, 'results'), report))
  console.log(`wrote ${file}`)
if (values['update-docs'] && config.mode === 'full' && failures.length === 0) {
  const doc = path.resolve(benchRoot, '..', '..', 'docs', 'performance.md')
  updateDocTable(doc, report)
  console.log(`updated ${doc}`)
}
if (failures.length > 0) {
  console.error(`${failures.length} case(s) failed: ${failures.map((f) => f.case).join(', ')}`)
  process.exitCode = 1
}

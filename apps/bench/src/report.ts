import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** One line of the results table. */
export interface ResultRow {
  /** Case number and title, e.g. `1 rebuild 200k`. */
  case: string
  variant: string
  /** Best and median sample, in `unit` (time rows: ms; memory: MB). */
  min?: number
  median?: number
  unit?: string
  /** Throughput derived from the median sample. */
  rate?: number
  rateUnit?: string
  /** Ratio of this row to the baseline measured in the same run (median against median). */
  ratio?: number
  /** What the ratio is against, e.g. `raw`. */
  ratioOf?: string
  /** The DESIGN.md target this row is held to, and whether it was met. */
  target?: string
  met?: boolean
  samples?: number[]
  note?: string
  /** Set when the case could not run; the reason. */
  skipped?: string
}

/** Everything one run produced, as written to JSON. */
export interface RunReport {
  mode: 'quick' | 'full'
  startedAt: string
  durationMs: number
  machine: MachineInfo
  workload: Record<string, number>
  rows: ResultRow[]
}

export interface MachineInfo {
  cpu: string
  cores: number
  memoryGb: number
  os: string
  node: string
  loadAverage: number[]
}

/** What the run is measured on: printed with the table and stored with the figures. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
  }
}

/** Formats a number for the table: 3 significant digits, thousands as `k`. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return ''
  const abs = Math.abs(value)
  if (abs >= 1_000_000) return `${(value / 1_000_000).toPrecision(3)}M`
  if (abs >= 10_000) return `${(value / 1000).toPrecision(3)}k`
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value.toFixed(3)
}

function cells(row: ResultRow): string[] {
  if (row.skipped) return [row.case, row.variant, '', '', '', '', '', `skipped: ${row.skipped}`]
  const unit = row.unit ? ` ${row.unit}` : ''
  return [
    row.case,
    row.variant,
    row.min === undefined ? '' : `${formatNumber(row.min)}${unit}`,
    row.median === undefined ? '' : `${formatNumber(row.median)}${unit}`,
    row.rate === undefined ? '' : `${formatNumber(row.rate)} ${row.rateUnit ?? ''}`.trim(),
    row.ratio === undefined ? '' : `${row.ratio.toPrecision(3)}× ${row.ratioOf ?? ''}`.trim(),
    row.target === undefined
      ? ''
      : `${row.target} ${row.met === undefined ? '' : row.met ? 'ok' : 'MISSED'}`.trim(),
    row.note ?? '',
  ]
}

const HEADER = ['case', 'variant', 'min', 'median', 'rate (median)', 'ratio', 'target', 'note']

/** The results as an aligned plain-text table. */
export function formatTable(rows: readonly ResultRow[]): string {
  const table = [HEADER, ...rows.map(cells)]
  const widths = HEADER.map((_, col) => Math.max(...table.map((line) => (line[col] ?? '').length)))
  const render = (line: string[]) =>
    line
      .map((cell, col) => cell.padEnd(widths[col] ?? 0))
      .join('  ')
      .trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [render(HEADER), rule, ...table.slice(1).map(render)].join('\n')
}

/** The results as a Markdown table (for docs/performance.md). */
export function formatMarkdown(rows: readonly ResultRow[]): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|')
  const lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`]
  for (const row of rows) lines.push(`| ${cells(row).map(escapeCell).join(' | ')} |`)
  return lines.join('\n')
}

/** The machine line printed under the table. */
export function machineLine(report: RunReport): string {
  const m = report.machine
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}, Node ${m.node}; load average at the end ${m.loadAverage.join(' ')}`
}

/** The report as Markdown: the table for docs/performance.md, with when and where it ran. */
export function markdownReport(report: RunReport): string {
  return [
    `${report.mode} run of ${report.startedAt}, ${(report.durationMs / 1000).toFixed(0)} s.`,
    `Machine: ${machineLine(report)}.`,
    '',
    formatMarkdown(report.rows),
  ].join('\n')
}

/**
 * Writes the report to `{dir}/{timestamp}.json`, `{dir}/latest.json` and the Markdown table to
 * `{dir}/latest.md` (quick runs: `quick-latest.json` only, so CI smoke runs leave no new files to
 * commit). Returns the paths.
 */
export function writeReport(dir: string, report: RunReport): string[] {
  fs.mkdirSync(dir, { recursive: true })
  const json = `${JSON.stringify(report, null, 2)}\n`
  const written: string[] = []
  const write = (name: string, text: string) => {
    const file = path.join(dir, name)
    // Written beside and renamed, so a reader never sees half a file.
    fs.writeFileSync(`${file}.tmp`, text)
    fs.renameSync(`${file}.tmp`, file)
    written.push(file)
  }
  if (report.mode === 'quick') {
    write('quick-latest.json', json)
  } else {
    write(`${report.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`, json)
    write('latest.json', json)
    write('latest.md', `${markdownReport(report)}\n`)
  }
  return written
}

const START = '<!-- bench:table:start -->'
const END = '<!-- bench:table:end -->'

/**
 * Replaces the table between the `<!-- bench:table:start -->` and `<!-- bench:table:end -->`
 * markers of a Markdown file (docs/performance.md) with this report's. The prose around it is
 * left alone: it is written by hand from the figures.
 */
export function updateDocTable(file: string, report: RunReport): void {
  const text = fs.readFileSync(file, 'utf8')
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start < 0 || end < start) throw new Error(`${file} has no ${START} … ${END} block`)
  const updated = `${text.slice(0, start + START.length)}\n${markdownReport(report)}\n${text.slice(end)}`
  fs.writeFileSync(file, updated)
}

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const RESULTS = new URL('../results/', import.meta.url).pathname

/** One row of docs/reliability.md: what was tried and what held. */
export interface ReliabilityRow {
  area: 'crash' | 'fault' | 'input'
  case: string
  tried: number
  held: number
  detail: string
}

/**
 * Whether this run updates the committed results: `pnpm reliability:record` and `pnpm soak` set
 * it; a plain test run (`pnpm test`, CI) checks the same things and leaves the files alone.
 */
const RECORDING = process.env.ESKIT_RECORD_RESULTS === '1'

/**
 * Records the rows one test file produced (`results/<file>.json`) when {@link RECORDING};
 * `scripts/report.ts` turns all of them into docs/reliability.md, so the table always comes from
 * the suite's own output.
 */
export function recordResults(file: string, rows: ReliabilityRow[], extra: Record<string, unknown> = {}) {
  if (!RECORDING) return
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(
    join(RESULTS, `${file}.json`),
    `${JSON.stringify({ recordedAt: new Date().toISOString(), node: process.version, rows, ...extra }, null, 2)}\n`,
  )
}

/** Reads a results file written by {@link recordResults}. */
export function readResults(
  file: string,
): { recordedAt: string; rows: ReliabilityRow[] } & Record<string, unknown> {
  return JSON.parse(readFileSync(join(RESULTS, `${file}.json`), 'utf8'))
}

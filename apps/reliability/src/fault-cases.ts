import { afterAll, it } from 'vitest'
import { type ReliabilityRow, recordResults } from './results.ts'

/**
 * The fault tests of one file, each of which also records its row of docs/reliability.md (held
 * when the test passed, `FAILED: …` when it threw), written to `results/<file>.json` when the
 * run records results.
 */
export function recordedFaults(file: string) {
  const rows: ReliabilityRow[] = []
  afterAll(() => recordResults(file, rows))
  return function fault(name: string, detail: string, body: () => Promise<void>, timeout = 30_000): void {
    it(name, { timeout }, async () => {
      try {
        await body()
        rows.push({ area: 'fault', case: name, tried: 1, held: 1, detail })
      } catch (error) {
        rows.push({ area: 'fault', case: name, tried: 1, held: 0, detail: `FAILED: ${String(error)}` })
        throw error
      }
    })
  }
}

#!/usr/bin/env node
// Sums the vitest JSON reports that every package's `test` task writes (turbo restores them on a
// cache hit, so the line is right on warm runs too) and prints one plain line for CI.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('../..', import.meta.url).pathname
let passed = 0
let failed = 0
let skipped = 0
let reports = 0
for (const group of ['packages', 'apps', 'tooling']) {
  const groupDir = join(root, group)
  if (!existsSync(groupDir)) continue
  for (const name of readdirSync(groupDir)) {
    const file = join(groupDir, name, '.vitest-report.json')
    if (!existsSync(file)) continue
    const report = JSON.parse(readFileSync(file, 'utf8'))
    reports++
    passed += report.numPassedTests ?? 0
    failed += (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0)
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  }
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
if (failed > 0 || passed === 0 || reports === 0) process.exit(1)

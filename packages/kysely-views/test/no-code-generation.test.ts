import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const child = fileURLToPath(new URL('./per-event-child.ts', import.meta.url))

function rows(flags: string[]): unknown {
  return JSON.parse(execFileSync(process.execPath, [...flags, child], { encoding: 'utf8' }))
}

describe('per-event handlers where code cannot be generated', () => {
  it('write the same rows with --disallow-code-generation-from-strings (no shape matchers)', () => {
    const generated = rows([])
    const plain = rows(['--disallow-code-generation-from-strings'])
    expect(plain).toEqual(generated)
    // p0..p6, each issued three times and scanned six times (the last holder wins).
    expect(generated).toHaveLength(7)
    expect(generated).toContainEqual(['p0', 'holder-42', 6, 44_000])
  })
})

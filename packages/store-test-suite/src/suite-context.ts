import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach } from 'vitest'

/** Per-test state of a suite: a fresh temp directory and clean-ups run after the test. */
export interface SuiteContext {
  /** A fresh temporary directory, removed after the test. */
  readonly location: string
  /** Runs `cleanup` after the test (last registered first), before the directory is removed. */
  defer(cleanup: () => unknown): void
}

/**
 * Registers `beforeEach`/`afterEach` hooks in the current `describe` and returns a getter for
 * the running test's context.
 */
export function useSuiteContext(): () => SuiteContext {
  let current: { location: string; cleanups: Array<() => unknown> } | undefined
  beforeEach(() => {
    current = { location: fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-suite-')), cleanups: [] }
  })
  afterEach(async () => {
    const ending = current
    current = undefined
    if (!ending) return
    for (const cleanup of ending.cleanups.reverse()) {
      try {
        await cleanup()
      } catch {
        // a store that was already closed by the test may refuse a second close
      }
    }
    fs.rmSync(ending.location, { recursive: true, force: true })
  })
  return () => {
    if (!current) throw new Error('the suite context is only available inside a test')
    const context = current
    return {
      location: context.location,
      defer: (cleanup) => {
        context.cleanups.push(cleanup)
      },
    }
  }
}

/** The groups to run: a group named in `skip` becomes `describe.skip` with its reason in the title. */
export function groupTitle(
  group: string,
  skip: Readonly<Record<string, string>> | undefined,
): {
  title: string
  skipped: boolean
} {
  const reason = skip?.[group]
  if (reason === undefined) return { title: group, skipped: false }
  if (typeof reason !== 'string' || reason.trim().length === 0) {
    throw new Error(`skip.${group} needs a reason (a non-empty string)`)
  }
  return { title: `${group} (skipped: ${reason})`, skipped: true }
}

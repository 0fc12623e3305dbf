import fs from 'node:fs'
import path from 'node:path'
import { removeIfExists } from './durability.js'
import type { DirectoryLayout } from './layout.js'

const MAX_RESULT_AGE_MS = 7 * 24 * 60 * 60 * 1000

/**
 * Directory clean-up when a store takes ownership: leftover builds of a crashed process,
 * half-written request files, and request results older than a week.
 */
export function cleanDirectory(layout: DirectoryLayout): void {
  // leftover builds of a crashed process: never half-served, simply discarded
  for (const entry of safeList(layout.builds)) removeIfExists(path.join(layout.builds, entry))
  for (const entry of safeList(layout.requests)) {
    if (entry.startsWith('.') && entry.endsWith('.tmp')) removeIfExists(path.join(layout.requests, entry))
  }
  const now = Date.now()
  for (const entry of safeList(layout.results)) {
    const file = path.join(layout.results, entry)
    try {
      if (now - fs.statSync(file).mtimeMs > MAX_RESULT_AGE_MS) removeIfExists(file)
    } catch {
      // removed meanwhile
    }
  }
}

function safeList(folder: string): string[] {
  try {
    return fs.readdirSync(folder)
  } catch {
    return []
  }
}

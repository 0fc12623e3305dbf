import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import type { WorkerSource } from '@eskit/core'
import type { PostgresLogReaderOptions } from './log-reader.js'
import { type Redactor, redactedWhenPrinted } from './redact.js'

let selfUrl: string | null | undefined

/** This package's own published entry, which a worker thread imports, or null if unresolvable. */
function packageEntryUrl(): string | null {
  if (selfUrl !== undefined) return selfUrl
  try {
    selfUrl = pathToFileURL(createRequire(import.meta.url).resolve('@eskit/postgres-event-store')).href
  } catch {
    selfUrl = null
  }
  return selfUrl
}

/**
 * How a build worker thread opens this log: {@link openPostgresLogReader} of this package with
 * the store's connection string, schema, deadline and log id. The options hold the password (the
 * worker must connect): they reach the worker by structured clone, and print redacted.
 */
export function readerWorkerSource(
  options: Required<PostgresLogReaderOptions>,
  redact: Redactor,
): WorkerSource | null {
  const module = packageEntryUrl()
  if (module === null) return null
  return { module, export: 'openPostgresLogReader', options: redactedWhenPrinted({ ...options }, redact) }
}

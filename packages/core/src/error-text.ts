import { isEskitError } from './eskit-error.js'

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The projection's own message when a store wrapped it (`PROJECTION_FAILED` keeps it as `cause`). */
export function causeMessage(error: unknown): string {
  if (isEskitError(error, 'PROJECTION_FAILED') && error.cause !== undefined)
    return describeThrown(error.cause)
  return describeThrown(error)
}

export function describeThrown(value: unknown): string {
  if (value instanceof Error) return value.message
  if (typeof value === 'string') return value
  try {
    const json = JSON.stringify(value)
    if (json !== undefined) return json
  } catch {
    // not serialisable: fall back to String
  }
  return String(value)
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describeThrown(error))
}

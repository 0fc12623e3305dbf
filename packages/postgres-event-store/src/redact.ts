/**
 * Removes secrets from text that goes into an error message or a log line: every password given
 * (also URL-encoded) becomes `***`, and the password part of any `postgres://user:pass@host` URL
 * too, so a connection string never leaks.
 */
export type Redactor = (text: string) => string

/** A redactor for the given secrets (empty strings and undefined are ignored). */
export function createRedactor(secrets: ReadonlyArray<string | undefined>): Redactor {
  const forms = new Set<string>()
  for (const secret of secrets) {
    if (!secret) continue
    forms.add(secret)
    forms.add(encodeURIComponent(secret))
  }
  const ordered = [...forms].sort((a, b) => b.length - a.length)
  return (text) => {
    // The known secrets first (whole, also when they hold '@' or spaces), then any URL's password.
    let out = text
    for (const form of ordered) out = out.split(form).join('***')
    return out.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@')
  }
}

/** The password of a connection string, or undefined (also when it does not parse). */
export function passwordOf(connectionString: string): string | undefined {
  try {
    const url = new URL(connectionString)
    return url.password ? decodeURIComponent(url.password) : undefined
  } catch {
    const match = /^[a-z]+:\/\/[^:/@\s]*:([^@\s]*)@/i.exec(connectionString)
    if (match?.[1]) return match[1]
    // key=value form: password=secret
    return /(?:^|\s)password\s*=\s*'?([^'\s]+)'?/i.exec(connectionString)?.[1]
  }
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/**
 * `value` (a flat object of plain values) whose printed forms are redacted: `JSON.stringify`,
 * `console.log` and `util.inspect` show every string field through `redact`, while a structured
 * clone (`workerData`, `postMessage`) still carries the real values. Both hooks stay out of the
 * clone: `toJSON` is not enumerable and the inspect hook is keyed by a symbol.
 */
export function redactedWhenPrinted<T extends object>(value: T, redact: Redactor): T {
  const shown = Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, typeof field === 'string' ? redact(field) : field]),
  )
  Object.defineProperty(value, 'toJSON', { value: () => shown, enumerable: false })
  Object.defineProperty(value, INSPECT, { value: () => shown, enumerable: false })
  return value
}

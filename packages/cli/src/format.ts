/** Formatting helpers for the human-readable output. */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const

/** `1536` → `1.5 KB`. */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit += 1
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`
}

/** `1234567` → `1,234,567`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

/** `65_000` → `1m 5s`, `800` → `0.8s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`
}

/** An ISO timestamp as `2026-11-24 07:12:03Z`, or `-`. */
export function formatTimestamp(iso: string | null): string {
  if (iso === null) return '-'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`
}

/** The visible length of a string that may hold ANSI colour codes. */
function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI escape sequences
  return text.replace(/\u001b\[[0-9;]*m/g, '').length
}

/**
 * Left-aligned columns separated by two spaces; `header` is styled with `styleHeader`.
 * Cells may already be coloured: widths count visible characters only.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  styleHeader: (text: string) => string = (text) => text,
): string {
  const widths = header.map((title, column) =>
    Math.max(visibleLength(title), ...rows.map((row) => visibleLength(row[column] ?? ''))),
  )
  const line = (cells: readonly string[], style: (text: string) => string = (text) => text): string =>
    cells
      .map((cell, column) => {
        const last = column === cells.length - 1
        const padding = last ? '' : ' '.repeat((widths[column] ?? 0) - visibleLength(cell))
        return style(cell) + padding
      })
      .join('  ')
      .trimEnd()
  return [line(header, styleHeader), ...rows.map((row) => line(row))].join('\n')
}

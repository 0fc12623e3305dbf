import type { ParkedEvent } from '@eskit/core'
import { EskitError } from '@eskit/core'
import { toEskitError } from '@eskit/core/sqlite'
import { readFileHeader } from './file-header.js'
import { readWithoutWriting } from './inspect.js'
import { selectParkedEvents } from './parked-events.js'

/**
 * Reads the events parked in a projection file (`onError: 'skip'`), oldest first, **read-only**
 * like `readProjectionFile`: the file is never modified, also while its owner writes to it.
 * Throws `NOT_FOUND` when the file does not exist, `CORRUPT` when it is not a projection file.
 *
 * @example
 * ```ts
 * for (const parked of readParkedEvents('data/projections/passes.pass_view.db')) logger.warn('parked', { position: parked.position, error: parked.error })
 * ```
 */
export function readParkedEvents(file: string): ParkedEvent[] {
  const header = readFileHeader(file)
  if (header.kind === 'missing') {
    throw new EskitError('NOT_FOUND', `projection file ${file} does not exist`, { details: { file } })
  }
  if (header.kind === 'not-sqlite') {
    throw new EskitError('CORRUPT', `${file} is not a projection file: ${header.reason}`, {
      details: { file },
    })
  }
  try {
    return readWithoutWriting(file, header.wal, selectParkedEvents)
  } catch (error) {
    throw toEskitError(error, `could not read the parked events of ${file}`, { file })
  }
}

import { assertStreamId, type LogPage, type ReadAllOptions, type StoredEvent } from '@eskit/core'
import { assertReadAllOptions } from '@eskit/core/adapter'
import type pg from 'pg'
import type { Connections } from './connections.js'
import { quoteIdentifier } from './schema.js'

/** Rows come as arrays (cheaper than objects); int8 becomes a number, json is parsed. */
const INT8 = 20
const JSON_OID = 114
const parseJson = (text: string): unknown => JSON.parse(text)
const parseInt8 = (text: string): number => Number(text)
const asText = (text: string): string => text

/**
 * Type parsers for the log's queries only, so the application's pool keeps its own global
 * parsers. Positions and versions stay below 2^53, so int8 fits a number; the queries select
 * nothing but int8, text and json.
 */
export const LOG_TYPES = {
  getTypeParser: (oid: number) => (oid === INT8 ? parseInt8 : oid === JSON_OID ? parseJson : asText),
} as unknown as pg.CustomTypesConfig

// recorded_at as epoch milliseconds: a Date without depending on the pool's timestamp parser.
const COLUMNS =
  'position, stream_id, stream_version, type, data, metadata, (extract(epoch FROM recorded_at) * 1000)::int8 AS recorded_ms'

type Row = [number, string, number, string, unknown, Record<string, unknown> | null, number]

// One event as the text of a JSON array, in the order of COLUMNS (data and metadata are json,
// checked when stored, so their text is valid JSON as it stands).
const EVENT_AS_JSON = `'[' || position || ',' || to_json(stream_id) || ',' || stream_version || ',' ||
  to_json(type) || ',' || data::text || ',' || coalesce(metadata::text, 'null') || ',' ||
  (extract(epoch FROM recorded_at) * 1000)::int8 || ']'`

/**
 * Above this many bytes of JSON text a page is read row by row instead (see {@link pageOf}): one
 * value sent must stay far below Node's 512 M characters per string (and PostgreSQL's 1 GB).
 */
export const PAGE_TEXT_LIMIT = 64 * 1024 * 1024

/**
 * A page of the log: the head, and the page's events as one text value, a JSON array. The server
 * formats it and the client parses it with one `JSON.parse`, instead of the driver decoding seven
 * fields per row. One statement reads one snapshot, and an append moves the head row and inserts
 * its events in one commit: the head is exactly the last position the page could hold. A text
 * longer than `limit` bytes is not sent (NULL; its length is known without reading it) and the
 * page is then read row by row.
 */
const pageOf = (s: string, rows: string, limit: number): string =>
  `SELECT (SELECT position FROM ${s}.eskit_head WHERE id),
    CASE WHEN octet_length(page.text) <= ${Math.floor(limit)} THEN page.text END
  FROM (
    SELECT '[' || coalesce(string_agg(${EVENT_AS_JSON}, ',' ORDER BY position), '') || ']' AS text
    FROM (${rows}) AS e
  ) AS page`

/** The range of each read, as a row source: every type, one type ($3), several types ($3[]). */
const rangesOf = (s: string) => ({
  all: `SELECT * FROM ${s}.eskit_events WHERE position > $1 ORDER BY position LIMIT $2`,
  // One ordered index range per type (index (type, position)), merged and cut to the limit: the
  // cost is bounded by limit × types, however rare the types are in the log.
  byTypes: `SELECT e.* FROM unnest($3::text[]) AS t(type) CROSS JOIN LATERAL (
      SELECT * FROM ${s}.eskit_events x
      WHERE x.type = t.type AND x.position > $1 ORDER BY x.position LIMIT $2
    ) AS e ORDER BY e.position LIMIT $2`,
  byType: `SELECT * FROM ${s}.eskit_events WHERE type = $3 AND position > $1 ORDER BY position LIMIT $2`,
})

/** The read queries of the log in schema `s` (quoted); pages above `pageTextLimit` bytes read by rows. */
export function readQueries(s: string, pageTextLimit = PAGE_TEXT_LIMIT) {
  const ranges = rangesOf(s)
  const byRows = (range: string) => `SELECT ${COLUMNS} FROM (${range}) AS e ORDER BY position`
  return {
    all: pageOf(s, ranges.all, pageTextLimit),
    byTypes: pageOf(s, ranges.byTypes, pageTextLimit),
    byType: pageOf(s, ranges.byType, pageTextLimit),
    rows: { all: byRows(ranges.all), byTypes: byRows(ranges.byTypes), byType: byRows(ranges.byType) },
    stream: `SELECT ${COLUMNS} FROM ${s}.eskit_events WHERE stream_id = $1 ORDER BY stream_version`,
    head: `SELECT position FROM ${s}.eskit_head WHERE id`,
  }
}

/** Turns rows of {@link readQueries} into events. */
export function toEvents(rows: unknown[]): StoredEvent[] {
  const events = new Array<StoredEvent>(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const [position, streamId, streamVersion, type, data, metadata, recordedMs] = rows[i] as Row
    const event: StoredEvent = {
      position,
      streamId,
      streamVersion,
      type,
      data,
      recordedAt: new Date(recordedMs),
    }
    if (metadata !== null) event.metadata = metadata
    events[i] = event
  }
  return events
}

/** PostgreSQL's "program limit exceeded" and "out of memory": a value too large to build. */
function isPageTooLarge(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause
  return cause?.code === '54000' || cause?.code === '53200'
}

/** The log's reads over `connections`: what the store and a log reader share. */
export interface LogReads {
  readAll(options: ReadAllOptions): Promise<StoredEvent[]>
  readPage(options: ReadAllOptions): Promise<LogPage>
  readStream(streamId: string): Promise<StoredEvent[]>
  head(): Promise<number>
}

/**
 * {@link LogReads} of the log in `schema`: the type filter is in the query (one index range per
 * type), arguments are checked as the contract says, every call is bounded by the connections'
 * deadline.
 */
export function createLogReads(
  connections: Connections,
  schema: string,
  pageTextLimit = PAGE_TEXT_LIMIT,
): LogReads {
  const queries = readQueries(quoteIdentifier(schema), pageTextLimit)
  const query = (message: string, text: string, values: unknown[], details?: Record<string, unknown>) =>
    connections.run(
      message,
      async (client) => {
        const result = await client.query<unknown[]>({ text, values, rowMode: 'array', types: LOG_TYPES })
        return toEvents(result.rows)
      },
      details,
    )
  const head = (): Promise<number> =>
    connections.run('could not read the head of the event log', async (client) => {
      const result = await client.query<[number]>({ text: queries.head, rowMode: 'array', types: LOG_TYPES })
      return result.rows[0]?.[0] ?? 0
    })
  // a page: one row, the head and the JSON text of the events (see readQueries); a page too large
  // for one text is read again row by row, the head first (it may only be older than the rows)
  const page = async (kind: 'all' | 'byType' | 'byTypes', values: unknown[]): Promise<LogPage> => {
    type PageRow = readonly [head: number, text: string | null]
    const [first, text] = await connections
      .run('could not read the event log', async (client): Promise<PageRow> => {
        const result = await client.query<[number, string | null]>({
          text: queries[kind],
          values,
          rowMode: 'array',
          types: LOG_TYPES,
        })
        return result.rows[0] ?? [0, '[]']
      })
      .catch((error: unknown): PageRow => {
        // a page beyond what the server can build as one value (1 GB): read by rows below
        if (isPageTooLarge(error)) return [0, null]
        throw error
      })
    if (text !== null) return { head: first, events: toEvents(JSON.parse(text) as unknown[]) }
    const latest = await head()
    return { head: latest, events: await query('could not read the event log', queries.rows[kind], values) }
  }
  const readPage = async (options: ReadAllOptions): Promise<LogPage> => {
    assertReadAllOptions(options)
    const { after, limit, types } = options
    if (types === undefined) return page('all', [after, limit])
    // no type wanted: no event, but the head still (a page of none)
    if (types.length === 0) return { head: await head(), events: [] }
    if (types.length === 1) return page('byType', [after, limit, types[0]])
    return page('byTypes', [after, limit, [...new Set(types)]])
  }
  return {
    async readAll(options) {
      if (options?.types?.length === 0) {
        assertReadAllOptions(options)
        return []
      }
      return (await readPage(options)).events
    },
    readPage,
    async readStream(streamId) {
      assertStreamId(streamId)
      return query(`could not read stream ${JSON.stringify(streamId)}`, queries.stream, [streamId], {
        streamId,
      })
    },
    head,
  }
}

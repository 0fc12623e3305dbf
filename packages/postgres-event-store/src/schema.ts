import { EskitError } from '@eskit/core'
import type pg from 'pg'

/** The newest format this package writes. A log with a higher version is refused with `CORRUPT`. */
export const SCHEMA_VERSION = 1
/** Marks the schema as an eskit event log (row `format` of `eskit_meta`). */
export const LOG_FORMAT = 'eskit-event-log'

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/

/**
 * Throws `INVALID_ARGUMENT` unless `schema` is 1–48 characters of `a-z 0-9 _`, not starting with a
 * digit. Lower case only, so the name means the same quoted and unquoted; 48 so that the NOTIFY
 * channel derived from it stays within PostgreSQL's 63-byte identifiers.
 */
export function assertSchemaName(schema: unknown): asserts schema is string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new EskitError(
      'INVALID_ARGUMENT',
      `invalid schema ${typeof schema === 'string' ? JSON.stringify(schema.slice(0, 80)) : typeof schema}: use 1-48 characters of a-z 0-9 _ not starting with a digit`,
      { details: { schema } },
    )
  }
}

/** Double-quotes an identifier (the name is validated too: quoting is the second guard). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** The NOTIFY channel of the log in `schema`. */
export function channelOf(schema: string): string {
  return `${schema}_eskit_append`
}

/**
 * The migrations, in order: migration `n` brings a log from version `n - 1` to `n`. Never edit one
 * that was released: add the next.
 */
function migrations(s: string): string[] {
  return [
    `
    CREATE TABLE ${s}.eskit_meta (key text PRIMARY KEY, value text NOT NULL);
    -- One row: the last assigned position. Appends lock it until commit, so positions are handed
    -- out in commit order, without gaps (a sequence commits out of order).
    CREATE TABLE ${s}.eskit_head (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      position bigint NOT NULL
    );
    INSERT INTO ${s}.eskit_head (id, position) VALUES (true, 0);
    CREATE TABLE ${s}.eskit_events (
      position bigint PRIMARY KEY,
      stream_id text NOT NULL,
      stream_version bigint NOT NULL,
      type text NOT NULL,
      data json NOT NULL,
      metadata json,
      recorded_at timestamptz NOT NULL,
      UNIQUE (stream_id, stream_version)
    );
    CREATE INDEX eskit_events_type_position ON ${s}.eskit_events (type, position);

    -- One call appends a group of appends (group commit): each keeps its own expected-version
    -- check and result. The head row is locked first and held until commit; versions are read
    -- after the lock, so no other append can slip in between check and insert. Each append's
    -- events come as JSON arrays (types, data, metadata), walked once: no per-element array
    -- subscripts, which cost O(n) each on text arrays.
    CREATE FUNCTION ${s}.eskit_append(
      p_streams text[],
      p_expected bigint[],
      p_types text[],
      p_data text[],
      p_metadata text[],
      p_lock_timeout text
    ) RETURNS TABLE (ok boolean, last_position bigint, last_version bigint, actual bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_head bigint;
      v_current bigint;
      v_count bigint;
      v_now timestamptz := now();
      r record;
    BEGIN
      PERFORM set_config('lock_timeout', p_lock_timeout, true);
      SELECT h.position INTO v_head FROM ${s}.eskit_head h WHERE h.id FOR UPDATE;
      FOR r IN
        SELECT u.stream, u.expected, u.types::json AS types, u.data::json AS data, u.metadata::json AS metadata
        FROM unnest(p_streams, p_expected, p_types, p_data, p_metadata) AS u(stream, expected, types, data, metadata)
      LOOP
        SELECT coalesce(max(e.stream_version), 0) INTO v_current
          FROM ${s}.eskit_events e WHERE e.stream_id = r.stream;
        IF r.expected IS NOT NULL AND r.expected <> v_current THEN
          ok := false; last_position := NULL; last_version := NULL; actual := v_current;
        ELSE
          INSERT INTO ${s}.eskit_events (position, stream_id, stream_version, type, data, metadata, recorded_at)
            SELECT v_head + x.k, r.stream, v_current + x.k, x.t, x.d,
                   CASE WHEN json_typeof(x.m) = 'null' THEN NULL ELSE x.m END, v_now
            FROM ROWS FROM (json_array_elements_text(r.types), json_array_elements(r.data), json_array_elements(r.metadata))
              WITH ORDINALITY AS x(t, d, m, k);
          GET DIAGNOSTICS v_count = ROW_COUNT;
          v_head := v_head + v_count;
          ok := true; last_position := v_head; last_version := v_current + v_count; actual := v_current;
        END IF;
        RETURN NEXT;
      END LOOP;
      UPDATE ${s}.eskit_head SET position = v_head WHERE id;
    END
    $fn$;
    `,
  ]
}

/**
 * Creates or migrates the log in `schema` under a transaction-scoped advisory lock (nodes that
 * start together take turns), and returns the log's id. A schema that holds anything but an
 * eskit log, or a log of a newer format, is refused with `CORRUPT`; nothing is dropped.
 */
export async function prepareSchema(
  client: pg.ClientBase,
  schema: string,
  options: { lockTimeoutMs: number; newId: () => string },
): Promise<{ id: string; created: boolean; migratedFrom?: number }> {
  const fast = await readMeta(client, schema)
  if (fast?.version === SCHEMA_VERSION) return { id: checkId(fast, schema), created: false }
  if (fast) checkFormat(fast, schema)
  const s = quoteIdentifier(schema)
  // A session lock, then a transaction begun after it is granted: a transaction begun before
  // would not see (in its catalog caches) the tables another node created meanwhile.
  await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${options.lockTimeoutMs}ms`])
  try {
    await client.query('SELECT pg_advisory_lock($1::int, hashtext($2))', [MIGRATION_LOCK, schema])
  } finally {
    await client.query('RESET lock_timeout')
  }
  try {
    return await migrateLocked(client, schema, s, options.newId)
  } finally {
    await client
      .query('SELECT pg_advisory_unlock($1::int, hashtext($2))', [MIGRATION_LOCK, schema])
      .catch(() => {
        // An error without a SQLSTATE: the connection is destroyed, and the lock goes with it.
        throw new Error('could not release the migration lock')
      })
  }
}

/**
 * The id of the log in `schema`, read without creating or migrating anything (a reader's open):
 * `NOT_FOUND` when the schema holds no log, `CORRUPT` when it holds something else, or a format
 * other than the one this package writes (a reader never migrates).
 */
export async function readLogId(client: pg.ClientBase, schema: string): Promise<string> {
  const meta = await readMeta(client, schema)
  if (!meta) {
    throw new EskitError('NOT_FOUND', `there is no event log in schema ${schema}`, { details: { schema } })
  }
  const id = checkId(meta, schema)
  if (meta.version !== SCHEMA_VERSION) {
    // older: its first read-write open migrates it; until then the reads may not fit it
    throw new EskitError(
      'CORRUPT',
      `the event log in schema ${schema} has format version ${meta.version}, not ${SCHEMA_VERSION}: open it with openPostgresEventStore first, which migrates it`,
      { details: { schema, version: meta.version, supported: SCHEMA_VERSION } },
    )
  }
  return id
}

// 'eskt': the advisory lock class of eskit's migrations (the second key is the schema's hash).
const MIGRATION_LOCK = 0x65736b74

async function migrateLocked(
  client: pg.ClientBase,
  schema: string,
  s: string,
  newId: () => string,
): Promise<{ id: string; created: boolean; migratedFrom?: number }> {
  await client.query('BEGIN')
  try {
    // Read again under the lock: another node may have created or migrated it meanwhile.
    const meta = await readMeta(client, schema)
    let from = 0
    if (meta) {
      checkFormat(meta, schema)
      from = meta.version
    } else {
      const foreign = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`,
        [schema],
      )
      if ((foreign.rows[0]?.n ?? 0) > 0) {
        throw new EskitError(
          'CORRUPT',
          `schema ${schema} holds tables that are not an eskit event log: choose another schema (option schema)`,
          { details: { schema } },
        )
      }
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
    }
    const steps = migrations(s)
    for (let version = from + 1; version <= SCHEMA_VERSION; version++) {
      await client.query(steps[version - 1] as string)
    }
    if (!meta) {
      await client.query(`INSERT INTO ${s}.eskit_meta (key, value) VALUES ('format', $1), ('log_id', $2)`, [
        LOG_FORMAT,
        newId(),
      ])
    }
    await client.query(
      `INSERT INTO ${s}.eskit_meta (key, value) VALUES ('version', $1)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [String(SCHEMA_VERSION)],
    )
    await client.query('COMMIT')
    const done = await readMeta(client, schema)
    if (!done) throw new EskitError('CORRUPT', `schema ${schema}: the event log vanished after its migration`)
    if (!meta) return { id: checkId(done, schema), created: true }
    return {
      id: checkId(done, schema),
      created: false,
      ...(from < SCHEMA_VERSION ? { migratedFrom: from } : {}),
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}

interface Meta {
  format: string | undefined
  version: number
  id: string | undefined
}

async function readMeta(client: pg.ClientBase, schema: string): Promise<Meta | undefined> {
  const table = await client.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [
    `${quoteIdentifier(schema)}.eskit_meta`,
  ])
  if (!table.rows[0]?.exists) return undefined
  let rows: Array<{ key: string; value: string }>
  try {
    rows = (
      await client.query<{ key: string; value: string }>(
        `SELECT key, value FROM ${quoteIdentifier(schema)}.eskit_meta`,
      )
    ).rows
  } catch (error) {
    throw new EskitError('CORRUPT', `schema ${schema}: eskit_meta is not an eskit event log's table`, {
      cause: error,
      details: { schema },
    })
  }
  const value = (key: string): string | undefined => rows.find((row) => row.key === key)?.value
  const version = Number(value('version') ?? 0)
  return {
    format: value('format'),
    version: Number.isSafeInteger(version) ? version : -1,
    id: value('log_id'),
  }
}

function checkFormat(meta: Meta, schema: string): void {
  if (meta.format !== LOG_FORMAT || meta.version < 1) {
    throw new EskitError(
      'CORRUPT',
      `schema ${schema} holds an eskit_meta table that is not an eskit event log's`,
      {
        details: { schema },
      },
    )
  }
  if (meta.version > SCHEMA_VERSION) {
    throw new EskitError(
      'CORRUPT',
      `the event log in schema ${schema} has format version ${meta.version}, newer than this @eskit/postgres-event-store understands (${SCHEMA_VERSION}): upgrade the package`,
      { details: { schema, version: meta.version, supported: SCHEMA_VERSION } },
    )
  }
}

function checkId(meta: Meta, schema: string): string {
  checkFormat(meta, schema)
  if (!meta.id)
    throw new EskitError('CORRUPT', `the event log in schema ${schema} has no log id`, {
      details: { schema },
    })
  return meta.id
}

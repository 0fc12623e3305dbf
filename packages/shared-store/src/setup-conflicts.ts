import { EskitError, type Logger, type Projection } from '@eskit/core'
import Database from 'better-sqlite3'
import { listSchemaObjects, objectKey, type SchemaObject } from './schema-objects.js'

/** Who owns an object of the shared database: a projection's name, or `null` for the application. */
export type OwnerLookup = (object: Pick<SchemaObject, 'type' | 'name'>) => string | null

/**
 * Dry-runs `projection.setup` on an empty in-memory database and returns the objects it
 * creates there, or `null` when setup cannot run on an empty database (for example it indexes
 * a table of the application). This is how a `CREATE TABLE IF NOT EXISTS` on a table that
 * already exists in the shared database is noticed: in the shared database it creates nothing,
 * in the empty one it creates the table.
 *
 * @example
 * ```ts
 * const objects = await dryRunSetup(projection, logger)
 * ```
 */
export async function dryRunSetup(
  projection: Projection<Database.Database>,
  logger: Logger,
): Promise<SchemaObject[] | null> {
  const scratch = new Database(':memory:')
  try {
    await projection.setup(scratch)
    return listSchemaObjects(scratch)
  } catch (error) {
    logger.debug(
      'shared-store: setup cannot run on an empty database; table claims are checked after setup only',
      {
        projection: projection.name,
        error: error instanceof Error ? error.message : String(error),
      },
    )
    return null
  } finally {
    scratch.close()
  }
}

/**
 * Throws `SCHEMA_CONFLICT` when `projection` would create an object that already exists in the
 * shared database and is not its own (another projection's, or the application's).
 *
 * @example
 * ```ts
 * assertNoClaimConflicts('b', dryRunObjects, listSchemaObjects(db), ownerOf)
 * ```
 */
export function assertNoClaimConflicts(
  projection: string,
  wanted: readonly SchemaObject[],
  existing: readonly SchemaObject[],
  ownerOf: OwnerLookup,
): void {
  const present = new Map(existing.map((object) => [objectKey(object.name), object]))
  for (const object of wanted) {
    const clash = present.get(objectKey(object.name))
    if (!clash) continue
    const owner = ownerOf(clash)
    if (owner === projection) continue
    throw schemaConflict(projection, clash, owner, 'creates')
  }
}

/**
 * Compares the schema before and after a real `setup` run (the projection's own objects were
 * dropped before it): any object setup removed or altered belongs to someone else.
 *
 * @example
 * ```ts
 * assertSetupTouchedNothingElse('b', before, after, ownerOf)
 * ```
 */
export function assertSetupTouchedNothingElse(
  projection: string,
  before: readonly SchemaObject[],
  after: readonly SchemaObject[],
  ownerOf: OwnerLookup,
): void {
  const now = new Map(after.map((object) => [`${object.type}:${objectKey(object.name)}`, object]))
  for (const object of before) {
    const later = now.get(`${object.type}:${objectKey(object.name)}`)
    if (later && later.sql === object.sql) continue
    throw schemaConflict(projection, object, ownerOf(object), later ? 'alters' : 'drops')
  }
}

/**
 * Throws `SCHEMA_CONFLICT` when setup created an index or trigger on a table that is not among
 * the tables it created itself: that would change another projection's (or the application's)
 * table, and tie this projection to it. Views may read any table.
 *
 * @example
 * ```ts
 * assertAttachedToOwnTables('b', created, ownerOf)
 * ```
 */
export function assertAttachedToOwnTables(
  projection: string,
  created: readonly SchemaObject[],
  ownerOf: OwnerLookup,
): void {
  const own = new Set(
    created.filter((object) => object.type === 'table').map((object) => objectKey(object.name)),
  )
  for (const object of created) {
    if (object.type !== 'index' && object.type !== 'trigger') continue
    if (own.has(objectKey(object.tableName))) continue
    const table = { type: 'table' as const, name: object.tableName }
    throw schemaConflict(projection, table, ownerOf(table), `adds ${object.type} "${object.name}" to`)
  }
}

/**
 * The `SCHEMA_CONFLICT` error naming both parties.
 *
 * @example
 * ```ts
 * throw schemaConflict('b', { type: 'table', name: 'passes' }, 'a', 'writes to')
 * ```
 */
export function schemaConflict(
  projection: string,
  object: Pick<SchemaObject, 'type' | 'name'>,
  owner: string | null,
  verb: string,
  cause?: unknown,
): EskitError {
  const ownerText =
    owner === null
      ? 'which eskit did not create (it belongs to the application)'
      : `which belongs to projection "${owner}"`
  return new EskitError(
    'SCHEMA_CONFLICT',
    `projection "${projection}" ${verb} ${object.type} "${object.name}", ${ownerText}; two projections cannot share a table in one database`,
    { cause, details: { name: projection, object: object.name, type: object.type, owner } },
  )
}

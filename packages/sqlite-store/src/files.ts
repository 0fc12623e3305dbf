/**
 * `@eskit/sqlite-store/files`: the directory layout and the file format, for the tools that work
 * on a projection directory beside the store (the `eskit` CLI, `migrateSharedToFiles`). The file
 * format is written by this package alone.
 */
export { type FileHeader, readFileHeader } from './file-header.js'
export {
  type DirectoryLayout,
  directoryLayout,
  ESKIT_FOLDER,
  PROJECTION_FILE_EXTENSION,
  projectionFilePath,
  projectionNameOf,
  SQLITE_COMPANION_SUFFIXES,
} from './layout.js'
export {
  ESKIT_SCHEMA_SQL,
  ESKIT_TABLE_PREFIX,
  FORMAT_VERSION,
  METADATA_TABLE,
  type MetadataSource,
  PARKED_TABLE,
  type ProjectionMetadata,
  type ProjectionMetadataInput,
  readProjectionMetadata,
  writeProjectionMetadata,
} from './metadata.js'
export { acquireOwnership, type OwnershipLock } from './ownership.js'
export { removeProjectionFile } from './remove-projection-file.js'
export { type RebuildRequestFile, takeRequestFiles, writeRequestResult } from './requests.js'
export { writeStatusFile } from './status-file.js'
export { PARKED_INSERT_SQL, writeParkedEvents } from './write-parked-events.js'

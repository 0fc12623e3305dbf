export { type FileHeader, readFileHeader } from './file-header.js'
export {
  type DirectoryInfo,
  inspectDirectory,
  type ProjectionFileInfo,
  readProjectionFile,
} from './inspect.js'
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
  PARKED_TABLE,
  type ProjectionMetadata,
  type ProjectionMetadataInput,
  readProjectionMetadata,
  writeProjectionMetadata,
} from './metadata.js'
export { acquireOwnership, isDirectoryOwned, type OwnershipLock } from './ownership.js'
export { readParkedEvents } from './read-parked-events.js'
export { removeProjectionFile } from './remove-projection-file.js'
export {
  type RebuildRequestFile,
  type RequestResult,
  type RequestState,
  readRequestResult,
  requestRebuild,
  takeRequestFiles,
  writeRequestResult,
} from './requests.js'
export { type SqliteStore, type SqliteStoreOptions, sqliteStore } from './sqlite-store.js'
export { type PublishedStatus, readStatusFile, writeStatusFile } from './status-file.js'

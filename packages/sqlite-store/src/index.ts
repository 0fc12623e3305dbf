export {
  type DirectoryInfo,
  inspectDirectory,
  type ProjectionFileInfo,
  readProjectionFile,
} from './inspect.js'
export { isDirectoryOwned } from './ownership.js'
export { readParkedEvents } from './read-parked-events.js'
export { type RequestResult, type RequestState, readRequestResult, requestRebuild } from './requests.js'
export {
  type SnapshotFile,
  type SnapshotOptions,
  type SnapshotProgress,
  type SnapshotReport,
  snapshotProjections,
} from './snapshot.js'
export { type SqliteStore, type SqliteStoreOptions, sqliteStore } from './sqlite-store.js'
export { type PublishedStatus, readStatusFile } from './status-file.js'
export { openWorkerBuild, type WorkerBuildOptions } from './worker-build.js'

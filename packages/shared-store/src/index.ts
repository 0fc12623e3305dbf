export { type SharedStoreCommonOptions, type SharedStoreOptions, sharedStore } from './shared-store.js'

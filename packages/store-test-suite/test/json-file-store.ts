import fs from 'node:fs'
import path from 'node:path'
import {
  assertBatchCommit,
  assertProjectionName,
  EskitError,
  type ParkedEvent,
  type Projection,
  type ProjectionSlot,
  type ProjectionStore,
  type SlotState,
} from '@eskit/core'

/** What a projection gets: one JSON document it changes freely inside setup/apply. */
export type JsonDoc = Record<string, unknown>

interface JsonFile {
  state: SlotState
  parked: ParkedEvent[]
  doc: JsonDoc
}

/** The worked example of the core README: one JSON file per projection, rebuilt in place. */
export function jsonFileStore(options: { dir: string }): ProjectionStore<JsonDoc> {
  const lockPath = path.join(options.dir, '.lock')
  let owned = false
  const fileOf = (name: string): string => {
    assertProjectionName(name) // names become file names: validate before touching the disk
    return path.join(options.dir, `${name}.json`)
  }
  const read = (name: string): JsonFile | null => {
    try {
      return JSON.parse(fs.readFileSync(fileOf(name), 'utf8')) as JsonFile
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw error
    }
  }
  // write, then rename over the old file: a crash leaves the old file or the new one, never half
  const write = (name: string, file: JsonFile): void => {
    const temp = `${fileOf(name)}.tmp`
    fs.writeFileSync(temp, JSON.stringify(file))
    fs.renameSync(temp, fileOf(name))
  }
  const failed = (name: string, step: string, error: unknown): EskitError =>
    new EskitError('PROJECTION_FAILED', `${step} of ${name} failed: ${String(error)}`, { cause: error })

  return {
    kind: 'json-files',
    capabilities: { buildBeside: false, detectsLoss: false, externalRequests: false },
    async open() {
      fs.mkdirSync(options.dir, { recursive: true })
      try {
        fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' })
      } catch {
        throw new EskitError('LOCKED', `${options.dir} is owned by another store`)
      }
      owned = true
    },
    async openSlot(projection: Projection<JsonDoc>): Promise<ProjectionSlot> {
      if (!owned) throw new EskitError('INVALID_STATE', 'open the store first')
      const name = projection.name
      fileOf(name)
      return {
        name,
        async state() {
          return read(name)?.state ?? null
        },
        async initialize({ version, logId }) {
          const doc: JsonDoc = {}
          try {
            await projection.setup(doc)
          } catch (error) {
            throw failed(name, 'setup', error) // nothing written: the old file stays
          }
          write(name, {
            state: { position: 0, version, logId, builtAt: new Date().toISOString() },
            parked: [],
            doc,
          })
        },
        async commit(batch) {
          assertBatchCommit(batch)
          const file = read(name)
          if (!file || file.state.position !== batch.from) {
            throw new EskitError('CHECKPOINT_CONFLICT', `checkpoint of ${name} is not ${batch.from}`, {
              details: { name, expected: batch.from, actual: file?.state.position ?? null },
            })
          }
          // apply works on a copy: a throw leaves the file exactly as it was
          const doc = structuredClone(file.doc)
          if (batch.events.length > 0) {
            try {
              await projection.apply(batch.events, doc)
            } catch (error) {
              throw failed(name, 'apply', error)
            }
          }
          const parked = [...file.parked, ...(batch.parked ?? [])]
          write(name, { state: { ...file.state, position: batch.to }, parked, doc })
        },
        async parked() {
          return read(name)?.parked ?? []
        },
        async close() {},
      }
    },
    reader(name) {
      return read(name)?.doc ?? {} // a snapshot: ask again per query
    },
    async close() {
      if (!owned) return
      owned = false
      fs.rmSync(lockPath, { force: true })
    },
  }
}

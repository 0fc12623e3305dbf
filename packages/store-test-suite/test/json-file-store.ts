import fs from 'node:fs'
import path from 'node:path'
import { EskitError, type Projection, type ProjectionStore, type SlotState } from '@eskit/core'
import {
  assertBatchCommit,
  assertProjectionName,
  assertProjectionShape,
  checkpointConflict,
  createLifecycle,
  decodeParkedEvent,
  encodeParkedEvent,
  notInitialized,
  type ParkedEventRow,
  projectionError,
} from '@eskit/core/adapter'

/** What a projection gets: one JSON document it changes freely inside setup/apply. */
export type JsonDoc = Record<string, unknown>
interface JsonFile {
  state: SlotState
  parked: ParkedEventRow[]
  doc: JsonDoc
}

/** The worked example of the core README: one JSON file per projection, rebuilt in place. */
export function jsonFileStore(options: { dir: string }): ProjectionStore<JsonDoc> {
  const life = createLifecycle('the json store')
  const lockPath = path.join(options.dir, '.lock')
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
    fs.writeFileSync(`${fileOf(name)}.tmp`, JSON.stringify(file))
    fs.renameSync(`${fileOf(name)}.tmp`, fileOf(name))
  }

  return {
    kind: 'json-files',
    capabilities: { buildBeside: false, detectsLoss: false, externalRequests: false },
    async open() {
      life.assertCanOpen()
      fs.mkdirSync(options.dir, { recursive: true })
      try {
        fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' })
      } catch {
        throw new EskitError('LOCKED', `${options.dir} is owned by another store`)
      }
      life.open()
    },
    async openSlot(projection: Projection<JsonDoc>) {
      life.assertOpen()
      assertProjectionShape(projection)
      const name = projection.name
      return {
        name,
        state: async () => read(name)?.state ?? null,
        async initialize({ version, logId }) {
          const doc: JsonDoc = {}
          try {
            await projection.setup(doc)
          } catch (error) {
            throw projectionError(name, 'setup', error) // nothing written: the old file stays
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
          if (!file) throw notInitialized(name)
          if (file.state.position !== batch.from)
            throw checkpointConflict(name, batch.from, file.state.position)
          const doc = structuredClone(file.doc) // apply works on a copy: a throw leaves the file as it was
          try {
            if (batch.events.length > 0) await projection.apply(batch.events, doc)
          } catch (error) {
            throw projectionError(name, 'apply', error)
          }
          const parked = [...file.parked, ...(batch.parked ?? []).map(encodeParkedEvent)]
          write(name, { state: { ...file.state, position: batch.to }, parked, doc })
        },
        parked: async () => (read(name)?.parked ?? []).map(decodeParkedEvent),
        async close() {},
      }
    },
    reader: (name) => read(name)?.doc ?? {}, // a snapshot: ask again per query
    close() {
      const owned = life.phase === 'open'
      return life.close(() => {
        if (owned) fs.rmSync(lockPath, { force: true })
      })
    },
  }
}

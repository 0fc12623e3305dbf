// One node of the cluster crash test: appends to the shared PostgreSQL log and runs the workload's
// projections on its own per-file directory. Prints `ack <position>` once an append returned
// (acknowledged), `unavailable` when the log refused one with UNAVAILABLE (not acknowledged),
// `reads <calls> <events>` every 100 ms (its log read load), and `started` once serving.
//
//   node cluster-child.ts DIR URL SEED NODE
import { writeSync } from 'node:fs'
import { join } from 'node:path'
import { createCollector, type EventStore, isEskitError } from '@eskit/core'
import { openPostgresEventStore } from '@eskit/postgres-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import { workloadProjections } from './projections.ts'
import { createRandom } from './random.ts'

const [dir = '', url = '', seedText = '1', node = '0'] = process.argv.slice(2)
const random = createRandom(Number(seedText))
const say = (line: string) => writeSync(1, `${line}\n`)

// A node started while the server restarts waits for it, as a supervisor restarting it would.
async function openLog(): Promise<EventStore> {
  for (;;) {
    try {
      return await openPostgresEventStore({ connectionString: url, timeoutMs: 2_000 })
    } catch (error) {
      if (!isEskitError(error, 'UNAVAILABLE')) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}
const log = await openLog()
// The log read load of this node: every readAll the collector makes, and the events it got.
let readCalls = 0
let readEvents = 0
const events: EventStore = {
  get id() {
    return log.id
  },
  append: (streamId, batch, options) => log.append(streamId, batch, options),
  async readAll(options) {
    const batch = await log.readAll(options)
    readCalls += 1
    readEvents += batch.length
    return batch
  },
  readStream: (streamId) => log.readStream(streamId),
  head: () => log.head(),
  onAppend: (listener) => log.onAppend(listener),
  close: () => log.close(),
}
const collector = createCollector({
  events,
  store: sqliteStore({ dir: join(dir, 'projections') }),
  batchSize: 1 + random.int(0, 4) * 50,
  retry: { initialDelayMs: 10, maxDelayMs: 200 },
})
for (const projection of workloadProjections('1')) collector.add(projection)
// The server may go down between opening the log and start() reading its head: start again.
for (;;) {
  try {
    await collector.start()
    break
  } catch (error) {
    if (!isEskitError(error, 'UNAVAILABLE')) throw error
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
say('started')
setInterval(() => say(`reads ${readCalls} ${readEvents}`), 100)

const types = ['Opened', 'Deposited', 'Withdrawn', 'Noted'] as const
const randomEvent = () => {
  const type = types[random.int(0, types.length - 1)] ?? 'Noted'
  return { type, data: { amount: random.int(1, 100), node, note: 'x'.repeat(random.int(0, 40)) } }
}
for (;;) {
  const stream = `account-${random.int(1, 50)}`
  const batch = Array.from({ length: random.int(1, 5) }, randomEvent)
  try {
    const { position } = await events.append(stream, batch)
    say(`ack ${position}`)
  } catch (error) {
    // The log is down (the harness restarts PostgreSQL): never acknowledged, try again shortly.
    if (!isEskitError(error, 'UNAVAILABLE')) throw error
    say('unavailable')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  if (random.next() < 0.5) await new Promise((resolve) => setImmediate(resolve))
}

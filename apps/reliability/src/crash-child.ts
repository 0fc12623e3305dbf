// The process the crash harness SIGKILLs: it appends events and runs a collector with the
// workload's projections (loadable in build worker threads) on a per-file store, printing `ack <position>` once an append has
// returned, so the parent knows which appends were acknowledged before the kill.
import { writeSync } from 'node:fs'
import { join } from 'node:path'
import { createCollector, silentLogger } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import { createRandom } from './random.ts'
import { loadableWorkload } from './worker-projections.ts'

const [dir = '', seedText = '1', mirrorVersion = '1'] = process.argv.slice(2)
const random = createRandom(Number(seedText))
const say = (line: string) => writeSync(1, `${line}\n`)

const events = openSqliteEventStore({ path: join(dir, 'events.db') })
const collector = createCollector({
  events,
  store: sqliteStore({ dir: join(dir, 'projections') }),
  batchSize: 1 + random.int(0, 4) * 50,
  retry: { initialDelayMs: 10, maxDelayMs: 100 },
  // builds on the main thread only, or lent to one or two worker threads
  buildWorkers: random.int(0, 2),
  // the parent counts the builds lent to workers
  logger: {
    ...silentLogger,
    debug(message, fields) {
      if (message === 'projection build lent to a worker') say(`lent ${String(fields?.name)}`)
    },
  },
})
for (const projection of loadableWorkload(mirrorVersion)) collector.add(projection)
// Events appended while no collector ran (as by another process): the collector starts behind.
const types = ['Opened', 'Deposited', 'Withdrawn', 'Noted'] as const
const randomEvent = () => {
  const type = types[random.int(0, types.length - 1)] ?? 'Noted'
  return { type, data: { amount: random.int(1, 100), note: 'x'.repeat(random.int(0, 40)) } }
}
if (random.next() < 0.6) {
  const burst = random.int(100, 8000)
  for (let i = 0; i < burst; i += 100) {
    await events.append(`account-${random.int(1, 50)}`, Array.from({ length: 100 }, randomEvent))
  }
}
say('phase starting')
await collector.start()
say('started')
// Tell the parent what the projections were doing, so each kill can be classified.
setInterval(() => {
  const states = new Set(collector.status().map((s) => s.state))
  say(
    `phase ${states.has('rebuilding') ? 'rebuilding' : states.has('catching-up') ? 'catching-up' : states.has('failed') ? 'failed' : 'live'}`,
  )
}, 15)

for (;;) {
  const stream = `account-${random.int(1, 50)}`
  const count = random.int(1, 5)
  const batch = Array.from({ length: count }, randomEvent)
  const { position } = await events.append(stream, batch)
  say(`ack ${position}`)
  // Sometimes ask for a rebuild, so kills also land during builds and swaps.
  if (random.next() < 0.002) void collector.rebuild('stats.by_type').catch(() => {})
  if (random.next() < 0.5) await new Promise((resolve) => setImmediate(resolve))
}

// The process the worker crash scenario SIGKILLs: a collector on a per-file store whose
// projections are a new generation, so each rebuilds beside its old file — most of them in build
// worker threads — while this process keeps appending. It prints on stdout:
//   ack <position>                       an append returned (acknowledged)
//   lent <name> <from> <target>          a build went to a worker thread
//   worker <name> <position>             that build's checkpoint, committed by the worker
//   returned <name> <position>           the worker handed the build back (done or failed)
//   rebuilt <name>                       the build was swapped in
//   rebuild <name>                       this process asked for a rebuild (a lent build is recalled)
import { writeSync } from 'node:fs'
import { join } from 'node:path'
import { createCollector, type LogFields, type Logger } from '@eskit/core'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import { sqliteStore } from '@eskit/sqlite-store'
import { createRandom } from './random.ts'
import { type Generation, generationProjections } from './worker-projections.ts'

const [dir = '', seedText = '1', generation = 'a', workersText = '3', batchText = '100'] =
  process.argv.slice(2)
const random = createRandom(Number(seedText))
const say = (line: string) => writeSync(1, `${line}\n`)

/** Builds held by a worker thread: name → the last checkpoint printed. */
const inWorker = new Map<string, number>()
const nameOf = (fields?: LogFields) => String(fields?.name ?? '')
const handedBack = (fields?: LogFields) => {
  const name = nameOf(fields)
  if (!inWorker.delete(name)) return
  say(`returned ${name} ${Number(fields?.position ?? -1)}`)
}
// The collector says in its log when it lends a build to a worker and when it gets it back.
const logger: Logger = {
  debug(message, fields) {
    if (message === 'projection build lent to a worker') {
      inWorker.set(nameOf(fields), Number(fields?.from))
      say(`lent ${nameOf(fields)} ${Number(fields?.from)} ${Number(fields?.target)}`)
    } else if (message === 'build worker reached its target') handedBack(fields)
  },
  info() {},
  warn(message, fields) {
    if (message.startsWith('the build worker of the projection')) handedBack(fields)
  },
  error() {},
}

const events = openSqliteEventStore({ path: join(dir, 'events.db') })
const collector = createCollector({
  events,
  store: sqliteStore({ dir: join(dir, 'projections') }),
  batchSize: Number(batchText),
  buildWorkers: Number(workersText),
  logger,
  retry: { initialDelayMs: 10, maxDelayMs: 100 },
})
const projections = generationProjections(generation as Generation)
for (const projection of projections) collector.add(projection)
collector.on('rebuilt', (info: { name: string }) => say(`rebuilt ${info.name}`))
await collector.start()
// A lent build's position moves with each batch its worker commits.
setInterval(() => {
  for (const status of collector.status()) {
    const printed = inWorker.get(status.name)
    const position = status.rebuild?.position
    if (printed === undefined || position === undefined || position === printed) continue
    inWorker.set(status.name, position)
    say(`worker ${status.name} ${position}`)
  }
}, 2)

const types = ['Opened', 'Deposited', 'Withdrawn', 'Noted'] as const
for (;;) {
  const batch = Array.from({ length: random.int(1, 5) }, () => ({
    type: types[random.int(0, types.length - 1)] ?? 'Noted',
    data: { amount: random.int(1, 100), note: 'x'.repeat(random.int(0, 40)) },
  }))
  const { position } = await events.append(`account-${random.int(1, 50)}`, batch)
  say(`ack ${position}`)
  // Now and then a rebuild request: a build lent to a worker is recalled and thrown away.
  if (random.next() < 0.02) {
    const name = projections[random.int(0, projections.length - 1)]?.name ?? ''
    inWorker.delete(name)
    say(`rebuild ${name}`)
    void collector.rebuild(name).catch(() => {})
  }
  await new Promise((resolve) => setTimeout(resolve, random.int(0, 2)))
}

/**
 * Child process of case 3: a cold start. Imports eskit, opens the log and the projection files,
 * starts, answers a first query, and reports as one JSON line how long after the process began
 * each step ended (`process.uptime()` counts from the process's own start).
 *
 *   node src/startup-child.ts <log file> <projection dir> <files> <expected rows>
 */
const importsStarted = process.uptime() * 1000
const { createReader } = await import('@eskit/kysely-views')
const { sqliteStore } = await import('@eskit/sqlite-store')
const { openCollector } = await import('./collector-run.ts')
const { recommendedView } = await import('./views.ts')
const imported = process.uptime() * 1000

const [logFile, dir, filesArg, rowsArg] = process.argv.slice(2)
if (!logFile || !dir || !filesArg || !rowsArg) {
  throw new Error('usage: startup-child.ts <log file> <projection dir> <files> <expected rows>')
}
const views = Array.from({ length: Number(filesArg) }, (_, i) => recommendedView(`passes_${i}`))
const run = openCollector(logFile, sqliteStore({ dir }), views)
await run.collector.start()
const started = process.uptime() * 1000
const answer = await createReader(run.collector, views[views.length - 1]!)
  .selectFrom('passes')
  .select((eb) => eb.fn.countAll<number>().as('n'))
  .executeTakeFirstOrThrow()
const answered = process.uptime() * 1000
await run.close()
if (Number(answer.n) !== Number(rowsArg)) throw new Error(`cold start: ${answer.n} rows, expected ${rowsArg}`)
process.stdout.write(`${JSON.stringify({ importsStarted, imported, started, answered })}\n`)

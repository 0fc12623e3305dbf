/**
 * Child process of case 9: the other node. On each IPC message `{ n }` it appends one workload
 * event to the shared PostgreSQL log and answers `{ position }`; the parent times append → visible
 * through its own collector's `waitFor`.
 *
 *   node src/pg-live-child.ts <connection string> <schema> <streams>
 */
import { openPostgresEventStore } from '@eskit/postgres-event-store'
import { workloadEvent } from './workload.ts'

const [url, schema, streamsArg] = process.argv.slice(2)
if (!url || !schema || !streamsArg) throw new Error('usage: pg-live-child.ts <url> <schema> <streams>')
const events = await openPostgresEventStore({ connectionString: url, schema })
const send = (message: unknown): void => {
  process.send?.(message)
}
process.on('message', (message: { n?: number; stop?: boolean }) => {
  if (message.stop) {
    void events.close().then(() => process.exit(0))
    return
  }
  const { streamId, event } = workloadEvent(message.n ?? 0, Number(streamsArg))
  events.append(streamId, [event]).then(
    ({ position }) => send({ position }),
    (error: Error) => send({ error: error.message }),
  )
})
send({ ready: true })

import { recordingDb, recordedStep } from './query-recorder.ts'
import { compileRecorded } from './recorded-shape.ts'
const db: any = recordingDb()
const N = 300000
const issue = (i: number) => db.insertInto('passes').values({ id: 'p' + i, holder: 'h' + i, scans: 0, last_at: null })
  .onConflict((oc: any) => oc.column('id').doUpdateSet((eb: any) => ({ holder: eb.ref('excluded.holder') })))
const scan = (i: number) => db.updateTable('passes').set((eb: any) => ({ scans: eb('scans', '+', 1), last_at: i })).where('id', '=', 'p' + i)
function time(label: string, fn: (i: number) => unknown) {
  for (let i = 0; i < 30000; i++) fn(i)
  const t = process.hrtime.bigint()
  for (let i = 0; i < N; i++) fn(i)
  console.log(label.padEnd(30), (Number(process.hrtime.bigint() - t) / N / 1000).toFixed(3), 'µs')
}
time('record scan', scan)
time('record issue', issue)
time('record+compile scan', (i) => compileRecorded(recordedStep(scan(i))!))
time('record+compile issue', (i) => compileRecorded(recordedStep(issue(i))!))
const s = scan(1), is = issue(1)
time('compile only scan', () => compileRecorded(recordedStep(s)!))
time('compile only issue', () => compileRecorded(recordedStep(is)!))
console.log(compileRecorded(recordedStep(scan(7))!), compileRecorded(recordedStep(issue(7))!))
import { learnCount, cachedSkeletonCount } from './recorded-shape.ts'
console.log('learns', learnCount, 'skeletons', cachedSkeletonCount())

import { recordingDb, recordedStep } from './query-recorder.ts'
import { compileRecorded } from './recorded-shape.ts'
const db: any = recordingDb()
const scan = (i: number) => db.updateTable('passes').set((eb: any) => ({ scans: eb('scans', '+', 1), last_at: i })).where('id', '=', 'p' + i)
const s = recordedStep(scan(1))!
let x = 0
for (let i = 0; i < 2000000; i++) { const r = compileRecorded(s) as any; x += r.compiled ? r.compiled.parameters.length : 0 }
console.log(x)

import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { createCollector, createMemoryEventStore } from '@eskit/core'
import { sqliteStore, requestRebuild } from '@eskit/sqlite-store'
const viaRequest = process.argv[2] === 'request'
for (let round = 0; round < 80; round++) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hang-'))
  const events = createMemoryEventStore({ id: 'log' })
  for (let i = 1; i <= 2000; i++) await events.append(`p-${i}`, [{ type: 'PassIssued', data: { id: `p-${i}` } }])
  const lines = []
  const logger = { debug: (m, f) => lines.push(['debug', m, f]), info: (m, f) => lines.push(['info', m, f]), warn: (m, f) => lines.push(['warn', m, f]), error: (m, f) => lines.push(['error', m, f]) }
  const collector = createCollector({ events, store: sqliteStore({ dir }), batchSize: 100, pollIntervalMs: 20, logger })
  collector.add({ name: 'passes', version: '1', eventTypes: ['PassIssued'], setup(db) { db.exec('create table if not exists passes (id text primary key)') },
    async apply(evs, db) { await delay(15); const ins = db.prepare('insert into passes (id) values (?)'); for (const e of evs) ins.run(e.data.id) } })
  await collector.start(); await collector.waitFor(2000)
  let done = false
  if (viaRequest) requestRebuild(dir, 'passes'); else collector.rebuild('passes').then(() => { done = true })
  const start = Date.now()
  while (Date.now() - start < 8000) {
    const s = collector.status()[0]
    if (viaRequest ? (s.lastRebuild && s.state === 'live' && Date.now() - start > 100 && !s.rebuild) : done) break
    await delay(20)
  }
  const s = collector.status()[0]
  console.log(round, Date.now() - start, JSON.stringify(s))
  if (Date.now() - start >= 8000) { console.log(lines.slice(-15).map((l) => JSON.stringify(l)).join('\n')); process.exit(1) }
  await collector.stop(); fs.rmSync(dir, { recursive: true, force: true })
}

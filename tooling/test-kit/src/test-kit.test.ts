import fs from 'node:fs'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import {
  createManualClock,
  dumpProjectionFile,
  eventually,
  faultyStore,
  recordingLogger,
  tempDir,
} from './index.js'

describe('eventually', () => {
  it('returns the first value that is not false, null or undefined', async () => {
    let calls = 0
    const value = await eventually(() => (++calls >= 3 ? { calls } : undefined))
    expect(value).toEqual({ calls: 3 })
  })

  it('fails after the timeout naming what it waited for', async () => {
    await expect(eventually(() => false, { what: 'the moon', timeoutMs: 20 })).rejects.toThrow(
      /timed out after 20 ms waiting for the moon/,
    )
  })
})

describe('createManualClock', () => {
  it('fires due timers in order only when advanced, at their own time', () => {
    const clock = createManualClock(1000)
    const fired: Array<[string, number]> = []
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20)
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10)
    const cleared = clock.setTimeout(() => fired.push(['never', clock.now()]), 15)
    clock.clearTimeout(cleared)
    expect(clock.nextDue()).toBe(10)
    clock.advance(19)
    expect(fired).toEqual([['a', 1010]])
    clock.advance(1)
    expect(fired).toEqual([
      ['a', 1010],
      ['b', 1020],
    ])
    expect(clock.now()).toBe(1020)
    expect(clock.nextDue()).toBeUndefined()
    expect(clock.delays).toEqual([20, 10, 15])
  })

  it('fires a timer set by a timer within the same advance when it falls due', () => {
    const clock = createManualClock(0)
    const fired: number[] = []
    clock.setTimeout(() => {
      fired.push(clock.now())
      clock.setTimeout(() => fired.push(clock.now()), 5)
    }, 5)
    clock.advance(10)
    expect(fired).toEqual([5, 10])
  })
})

describe('recordingLogger', () => {
  it('keeps every line and finds them by level and text', () => {
    const logger = recordingLogger()
    logger.info('projection rebuilt', { name: 'passes' })
    logger.warn('file moved aside')
    expect(logger.lines).toEqual([
      { level: 'info', message: 'projection rebuilt', fields: { name: 'passes' } },
      { level: 'warn', message: 'file moved aside', fields: undefined },
    ])
    expect(logger.has('warn', 'moved aside')).toBe(true)
    expect(logger.has('error', 'moved aside')).toBe(false)
    expect(logger.find('info', 'passes')).toHaveLength(1)
  })
})

describe('tempDir', () => {
  it('creates a fresh directory that cleanup removes', () => {
    const { dir, cleanup } = tempDir()
    fs.writeFileSync(`${dir}/x`, '1')
    cleanup()
    expect(fs.existsSync(dir)).toBe(false)
  })
})

describe('dumpProjectionFile', () => {
  it("hashes the rows of the own tables in order, leaving eskit's bookkeeping out", () => {
    const { dir, cleanup } = tempDir()
    try {
      const write = (file: string, rows: Array<[string, number]>, checkpoint: number) => {
        const db = new Database(`${dir}/${file}`)
        db.exec('create table passes (id text primary key, scans integer)')
        db.exec('create table _eskit_checkpoint (position integer)')
        db.prepare('insert into _eskit_checkpoint values (?)').run(checkpoint)
        for (const row of rows) db.prepare('insert into passes values (?, ?)').run(...row)
        db.close()
      }
      write(
        'a.db',
        [
          ['p-1', 1],
          ['p-2', 2],
        ],
        10,
      )
      write(
        'b.db',
        [
          ['p-2', 2],
          ['p-1', 1],
        ],
        20,
      )
      write(
        'c.db',
        [
          ['p-1', 1],
          ['p-2', 3],
        ],
        10,
      )
      const a = dumpProjectionFile(`${dir}/a.db`)
      expect(a.rows).toBe(2)
      expect(JSON.parse(a.text)).toEqual({
        passes: [
          ['p-1', 1],
          ['p-2', 2],
        ],
      })
      expect(dumpProjectionFile(`${dir}/b.db`).sha256).toBe(a.sha256)
      expect(dumpProjectionFile(`${dir}/c.db`).sha256).not.toBe(a.sha256)
    } finally {
      cleanup()
    }
  })
})

describe('faultyStore', () => {
  // the smallest store shape: slots that record their commits, builds that swap
  const innerStore = () => {
    const commits: string[] = []
    const slot = (name: string, kind: string) => ({
      name,
      kind,
      async commit(batch: { to: number }) {
        commits.push(`${kind}:${name}:${batch.to}`)
      },
    })
    const store = {
      capabilities: { buildBeside: true, detectsLoss: false, externalRequests: false },
      async openSlot(projection: { name: string }) {
        return slot(projection.name, 'live')
      },
      async beginBuild(projection: { name: string }) {
        return { ...slot(projection.name, 'build'), swap: async () => slot(projection.name, 'swapped') }
      },
    }
    return { store, commits }
  }

  it('throws the injected faults and passes everything else through', async () => {
    const { store, commits } = innerStore()
    let failCommit = true
    const wrapped = faultyStore(store, {
      openSlot: (name) => (name === 'broken' ? new Error('cannot open') : undefined),
      commit: (name) => (failCommit && name === 'p' ? new Error('disk full') : undefined),
      check: (name) => (name === 'p' ? 'lost' : 'ok'),
    })
    await expect(wrapped.openSlot({ name: 'broken' })).rejects.toThrow('cannot open')
    const slot = (await wrapped.openSlot({ name: 'p' })) as unknown as {
      kind: string
      commit(batch: { to: number }): Promise<void>
      check(): string
    }
    expect(slot.kind).toBe('live')
    await expect(slot.commit({ to: 1 })).rejects.toThrow('disk full')
    failCommit = false
    await slot.commit({ to: 1 })
    expect(commits).toEqual(['live:p:1'])
    expect(slot.check()).toBe('lost')
    expect(wrapped.capabilities).toMatchObject({ detectsLoss: true, buildBeside: true })
  })

  it('fails a swap before it happens, or after it replaced the data', async () => {
    const { store } = innerStore()
    let where: 'before' | 'after' | null = 'before'
    const wrapped = faultyStore(store, {
      swap: () => (where === 'before' ? new Error('swap refused') : undefined),
      afterSwap: () => (where === 'after' ? new Error('fsync failed') : undefined),
    })
    const build = (await wrapped.beginBuild?.({ name: 'p' })) as unknown as {
      swap(): Promise<{ kind: string }>
    }
    await expect(build.swap()).rejects.toThrow('swap refused')
    where = 'after'
    await expect(build.swap()).rejects.toThrow('fsync failed')
    where = null
    expect((await build.swap()).kind).toBe('swapped')
  })
})

import { describe, expect, it } from 'vitest'
import { createSerialQueue } from './serial-queue.js'

describe('createSerialQueue', () => {
  it('runs a synchronous task at once when idle, with no await before it', () => {
    const queue = createSerialQueue()
    const seen: string[] = []
    const result = queue.run(() => {
      seen.push('ran')
      return 42
    })
    // the task ran inside run(), before any microtask
    expect(seen).toEqual(['ran'])
    return expect(result).resolves.toBe(42)
  })

  it('never lets a task start while an async one is pending, and keeps call order', async () => {
    const queue = createSerialQueue()
    const log: string[] = []
    let release: () => void = () => {}
    const first = queue.run(async () => {
      log.push('first:start')
      await new Promise<void>((resolve) => {
        release = resolve
      })
      log.push('first:end')
      throw new Error('first failed')
    })
    const second = queue.run(() => {
      log.push('second')
      return 'two'
    })
    const third = queue.run(async () => {
      log.push('third')
      return 'three'
    })
    // after a full turn every queued promise job has run: a task that did not wait would have started
    await new Promise((resolve) => setImmediate(resolve))
    expect(log).toEqual(['first:start'])
    release()
    await expect(first).rejects.toThrow('first failed')
    await expect(second).resolves.toBe('two')
    await expect(third).resolves.toBe('three')
    expect(log).toEqual(['first:start', 'first:end', 'second', 'third'])
    await queue.idle()
  })

  it('reports a synchronous throw as a rejection and stays usable', async () => {
    const queue = createSerialQueue()
    await expect(
      queue.run(() => {
        throw new Error('sync failure')
      }),
    ).rejects.toThrow('sync failure')
    await expect(queue.run(() => 'after')).resolves.toBe('after')
  })
})

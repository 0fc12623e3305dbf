import { describe, expect, it } from 'vitest'
import { isEskitError } from './eskit-error.js'
import { beginMemoryTransaction, type MemoryTables, memoryReader } from './memory-connection.js'

describe('memory connection', () => {
  it('collects changes without touching the base until the result is taken', () => {
    const base: MemoryTables = new Map([['t', new Map([['a', { n: 1 }]])]])
    const tx = beginMemoryTransaction(base)
    tx.conn.table('t').set('b', { n: 2 })
    tx.conn.table('t').delete('a')
    tx.conn.table('u').set(1, { n: 3 })
    expect(tx.conn.table('t').values()).toEqual([{ n: 2 }])
    expect(base.get('t')?.size).toBe(1)
    expect(base.has('u')).toBe(false)
    const next = tx.result()
    expect([...(next.get('t')?.entries() ?? [])]).toEqual([['b', { n: 2 }]])
    expect(next.get('u')?.get(1)).toEqual({ n: 3 })
    expect(tx.conn.tableNames()).toEqual(['t', 'u'])
  })

  it('copies rows in and out, so later mutation of an object changes nothing stored', () => {
    const tx = beginMemoryTransaction(new Map())
    const row = { list: [1] }
    tx.conn.table('t').set('r', row)
    row.list.push(2)
    const got = tx.conn.table<{ list: number[] }>('t').get('r')
    got?.list.push(3)
    expect(tx.conn.table('t').get('r')).toEqual({ list: [1] })
  })

  it('creates, drops and clears tables', () => {
    const base: MemoryTables = new Map([['old', new Map([['x', 1]])]])
    const tx = beginMemoryTransaction(base)
    tx.conn.createTable('fresh')
    tx.conn.createTable('old')
    expect(tx.conn.table('old').size).toBe(1)
    tx.conn.dropTable('old')
    expect(tx.conn.hasTable('old')).toBe(false)
    expect(tx.conn.hasTable('fresh')).toBe(true)
    tx.conn.table<number>('fresh').set('k', 1)
    tx.conn.table('fresh').clear()
    expect(tx.conn.table('fresh').size).toBe(0)
    expect([...tx.result().keys()]).toEqual(['fresh'])
  })

  it('refuses bad table names and keys with INVALID_ARGUMENT', () => {
    const tx = beginMemoryTransaction(new Map())
    expect(() => tx.conn.table('')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => tx.conn.table<number>('t').set({} as never, 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
    expect(() => tx.conn.table<number>('t').set(Number.NaN, 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })

  it('is CLOSED once its transaction ended', () => {
    const tx = beginMemoryTransaction(new Map())
    const table = tx.conn.table<number>('t')
    tx.end()
    try {
      table.set('a', 1)
      expect.unreachable()
    } catch (error) {
      expect(isEskitError(error, 'CLOSED')).toBe(true)
    }
  })

  it('a reader is read-only and reads whatever the source holds at each call', () => {
    let tables: MemoryTables = new Map([['t', new Map([['a', 1]])]])
    const reader = memoryReader(() => tables)
    const table = reader.table<number>('t')
    expect(table.values()).toEqual([1])
    tables = new Map([['t', new Map([['b', 2]])]])
    expect(table.entries()).toEqual([['b', 2]])
    expect(reader.readOnly).toBe(true)
    expect(reader.table('missing').values()).toEqual([])
    for (const write of [() => table.set('c', 3), () => table.delete('b'), () => reader.createTable('x')]) {
      expect(write).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }))
    }
    expect(reader.tableNames()).toEqual(['t'])
  })
})

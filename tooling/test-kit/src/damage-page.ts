import fs from 'node:fs'
import Database from 'better-sqlite3'

/**
 * Overwrites one leaf page in the middle of `table`'s b-tree of a SQLite file, as a bad sector
 * would; returns the page number. The file must not be open for writing meanwhile.
 *
 * @example
 * ```ts
 * damageLeafPage(path.join(dir, 'passes.view.db'), 'passes')
 * ```
 */
export function damageLeafPage(file: string, table: string): number {
  const db = new Database(file, { readonly: true })
  let page: number
  let pageSize: number
  try {
    const pages = db
      .prepare("select pageno from dbstat where name = ? and pagetype = 'leaf' order by pageno")
      .pluck()
      .all(table) as number[]
    if (pages.length === 0) throw new Error(`table ${table} has no leaf page in ${file}`)
    pageSize = db.pragma('page_size', { simple: true }) as number
    page = pages[Math.floor(pages.length / 2)] as number
  } finally {
    db.close()
  }
  const handle = fs.openSync(file, 'r+')
  try {
    fs.writeSync(handle, Buffer.alloc(pageSize, 0xee), 0, pageSize, (page - 1) * pageSize)
  } finally {
    fs.closeSync(handle)
  }
  return page
}

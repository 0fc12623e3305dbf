/**
 * The root README's quick start, taken from the README itself (its first `ts` block) and run as
 * written: type-checked by tsc, then run by Node in a temporary directory (so `data/` is created
 * there) with the published packages' built `dist/` resolved by name, as an application would;
 * then run a second time on the same data, as a reader trying it would.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { openSqliteEventStore } from '@eskit/sqlite-event-store'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { tempDir } from './fixtures.js'

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const readme = fs.readFileSync(path.join(packageDir, '..', '..', 'README.md'), 'utf8')

/** The body of the README section `## {title}`. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`)
  if (start < 0) throw new Error(`README has no "## ${title}" section`)
  const end = readme.indexOf('\n## ', start + 1)
  return readme.slice(start, end < 0 ? undefined : end)
}

/** The fenced code blocks of one language in `text`, in order. */
function codeBlocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1] ?? '')
}

/** Links the quick start's program to what the application would install. */
function linkDependencies(dir: string): void {
  const own = path.join(packageDir, 'node_modules')
  const links: Record<string, string> = {
    '@eskit/kysely-views': packageDir,
    '@eskit/core': path.join(own, '@eskit', 'core'),
    '@eskit/sqlite-event-store': path.join(own, '@eskit', 'sqlite-event-store'),
    '@eskit/sqlite-store': path.join(own, '@eskit', 'sqlite-store'),
    'better-sqlite3': path.join(own, 'better-sqlite3'),
    kysely: path.join(own, 'kysely'),
    '@types/better-sqlite3': path.join(own, '@types', 'better-sqlite3'),
    '@types/node': path.join(own, '@types', 'node'),
  }
  for (const [name, target] of Object.entries(links)) {
    const link = path.join(dir, 'node_modules', name)
    fs.mkdirSync(path.dirname(link), { recursive: true })
    fs.symlinkSync(fs.realpathSync(target), link, 'dir')
  }
}

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
})
afterEach(() => cleanup())

test('the quick start installs the packages it imports', () => {
  const install = codeBlocks(section('Quick start'), 'sh')[0] ?? ''
  const code = codeBlocks(section('Quick start'), 'ts')[0] ?? ''
  const imported = [...code.matchAll(/from '([^']+)'/g)].map((m) => m[1])
  expect(imported.length).toBeGreaterThan(0)
  for (const name of imported) expect(install.split(/\s+/)).toContain(name)
})

test("the README's quick start compiles, runs and leaves the expected data", async () => {
  const code = codeBlocks(section('Quick start'), 'ts')[0]
  expect(code).toContain('defineStatements(')
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  fs.writeFileSync(path.join(dir, 'quick-start.ts'), code ?? '')
  // The per-event handler shown after the quick start, type-checked in the quick start's view.
  const perEvent = codeBlocks(section('Quick start'), 'ts')[1] ?? ''
  expect(perEvent).toMatch(/^on: \{/)
  fs.writeFileSync(
    path.join(dir, 'per-event.ts'),
    `${(code ?? '').split('const events = ')[0]}
export const perEventView = defineView<PassTables, PassEvent>({
  name: 'passes.per_event',
  version: '1',
  migrations: [],
  ${perEvent}})
`,
  )
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2023',
        types: ['node'],
        skipLibCheck: true,
        noEmit: true,
      },
      files: ['quick-start.ts', 'per-event.ts'],
    }),
  )
  linkDependencies(dir)

  const tsc = path.join(packageDir, 'node_modules', 'typescript', 'bin', 'tsc')
  // tsc prints its diagnostics on stdout: comparing them shows any in the failure
  const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' })
  expect({ status: compiled.status, diagnostics: compiled.stdout }).toEqual({ status: 0, diagnostics: '' })

  const output = execFileSync(process.execPath, ['quick-start.ts'], { cwd: dir, encoding: 'utf8' })
  // what it prints is what the README shows below the console.log
  const shown = /console\.log\(.*\n\/\/ (.*) \(on the first run\)\n/.exec(code ?? '')?.[1]
  expect(shown).toBeDefined()
  expect(output.replace(/\s+/g, ' ').trim()).toBe(shown)

  // run again on the same data: the files are served at once and the new events applied on top
  const again = execFileSync(process.execPath, ['quick-start.ts'], { cwd: dir, encoding: 'utf8' })
  expect(again.replace(/\s+/g, ' ').trim()).toBe(
    "[ { id: 'pass-1', holder: 'Ada', scans: 2, last_at: '2026-01-05T09:00:00Z' } ]",
  )

  // the program stopped cleanly; its data is where the README says, in the view's own file
  const file = new Database(path.join(dir, 'data', 'projections', 'passes.pass_view.db'), { readonly: true })
  try {
    expect(file.prepare('select id, holder, scans, last_at from passes').all()).toEqual([
      { id: 'pass-1', holder: 'Ada', scans: 2, last_at: '2026-01-05T09:00:00Z' },
    ])
  } finally {
    file.close()
  }
  const events = openSqliteEventStore({ path: path.join(dir, 'data', 'events.db') })
  try {
    expect((await events.readAll({ after: 0, limit: 10 })).map((e) => [e.streamId, e.type])).toEqual([
      ['pass-1', 'PassIssued'],
      ['pass-1', 'PassScanned'],
      ['pass-1', 'PassIssued'],
      ['pass-1', 'PassScanned'],
    ])
  } finally {
    await events.close()
  }
}, 60_000)

import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'

/** The page: one HTML document with its style and script inlined, and the CSP that allows exactly them. */
export interface DashboardPage {
  readonly html: string
  readonly contentSecurityPolicy: string
}

const hash = (text: string): string =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`

let loading: Promise<DashboardPage> | undefined

/**
 * Reads the page's files shipped beside this module (`page/` in `dist`, or in `src` under test)
 * once and inlines them: a single response, no CDN, nothing to fetch but the live data.
 */
export function loadPage(): Promise<DashboardPage> {
  loading ??= composePage().catch((error: unknown) => {
    loading = undefined
    throw error
  })
  return loading
}

async function composePage(): Promise<DashboardPage> {
  const read = (file: string): Promise<string> => readFile(new URL(`./page/${file}`, import.meta.url), 'utf8')
  const [template, style, script] = await Promise.all([
    read('index.html'),
    read('dashboard.css'),
    read('dashboard.js'),
  ])
  const html = template.replace('/*STYLE*/', () => style).replace('/*SCRIPT*/', () => script)
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  return { html, contentSecurityPolicy }
}

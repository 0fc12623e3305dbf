import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type BrowserContext, chromium } from 'playwright-core'

/** Debian's chromium (`apt-get install -y chromium`): `npx playwright install` cannot download here. */
export const CHROMIUM = process.env.ESKIT_CHROMIUM ?? '/usr/bin/chromium'

/**
 * Flags that keep headless Chromium quiet on a closed network: without the background-networking
 * ones it keeps trying to reach Google's services. See DEVELOPERS.md, "Browser tests".
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A headless Chromium with a fresh profile. Fails loudly without chromium: the tests never skip. */
export async function openBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" ` +
        '(.ci/run does this), or point ESKIT_CHROMIUM at a Chromium binary',
    )
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'eskit-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  })
  return {
    context,
    close: async () => {
      await context.close()
      fs.rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** The few browser globals the tests read inside `page.evaluate` (the package is typed for Node, not the DOM). */
export interface PageGlobals {
  getComputedStyle(node: unknown): { backgroundColor: string }
  sessionStorage: { length: number } & Record<string, string>
  __xss?: number
  __sameDocument?: boolean
}

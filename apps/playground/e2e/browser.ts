import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); `.ci/run` installs it when missing. */
export const CHROMIUM_PATH = process.env.SHORTV_CHROMIUM ?? '/usr/bin/chromium';

function checkChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get install -y chromium) or set SHORTV_CHROMIUM`,
    );
  }
}

// Root in a container needs --no-sandbox; the rest keeps Chromium off the (closed) network.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A browser profile in `userDataDir`, as a person's browser has one: an on-disk HTTP cache and Cache
 * Storage that survive a reload (in an incognito-like context a reload fetched the 28 MB .wasm again).
 */
export async function launchChromiumProfile(
  userDataDir: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext> {
  checkChromium();
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    acceptDownloads: true,
    ...options,
  });
}

import fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium), which .ci/run installs when it is missing. */
export const CHROMIUM_PATH = process.env.RELAY_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Starts a headless Chromium; close it in afterAll. Throws, saying what to install, when there is none. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set RELAY_TEST_CHROMIUM`);
  }
  // As root (CI containers) Chromium's sandbox cannot start; the pages it loads are our own.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

import { defineConfig } from 'vitest/config';

/**
 * The browser suite (`npm run test:browser`): the console driven in a real Chromium
 * (/usr/bin/chromium, Debian's package; RELAY_TEST_CHROMIUM to use another) by playwright-core.
 * Left out of `npm test`, which must pass on a machine without a browser.
 */
export const BROWSER_TESTS = ['test/**/browser/**/*.test.ts'];

export default defineConfig({
  test: {
    include: BROWSER_TESTS,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One browser at a time: Chromium is heavy on a small machine.
    fileParallelism: false,
  },
});

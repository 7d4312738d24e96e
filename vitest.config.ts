import { configDefaults, defineConfig } from 'vitest/config';
import { BROWSER_TESTS } from './vitest.browser.config.js';
import { POSTGRES_TESTS } from './vitest.pg.config.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Run by `npm run test:pg` (vitest.pg.config.ts); test/pg-suite-notice.test.ts says so here.
    // The browser suite is `npm run test:browser` (vitest.browser.config.ts).
    exclude: [...configDefaults.exclude, ...POSTGRES_TESTS, ...BROWSER_TESTS],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Relay and simulator servers bind 127.0.0.1 on port 0, so files can run in parallel.
    pool: 'forks',
  },
});

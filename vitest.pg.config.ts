import { defineConfig } from 'vitest/config';

/**
 * The PostgreSQL suite (`npm run test:pg`): tests against the PostgreSQL on 127.0.0.1:5432 (or
 * RELAY_TEST_POSTGRES_URL), each file in a database of its own. Left out of `npm test`, which must
 * pass on a machine without PostgreSQL; this run fails when PostgreSQL does not answer.
 */
export const POSTGRES_TESTS = ['test/**/postgres/**/*.test.ts', 'test/**/postgres.*.test.ts'];

export default defineConfig({
  test: {
    include: POSTGRES_TESTS,
    globalSetup: ['test/helpers/postgres-global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});

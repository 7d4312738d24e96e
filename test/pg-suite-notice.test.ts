import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { maskDatabaseUrl } from '../src/store/postgres/mask-database-url.js';
import { ADMIN_URL, postgresAnswers } from './helpers/postgres.js';

// `npm test` must pass on a machine without PostgreSQL, so the PostgreSQL suite is its own run
// (`npm run test:pg`, vitest.pg.config.ts), which fails when PostgreSQL does not answer. This
// test says, in every `npm test`, that the suite did not run here, and whether it could.

/** Test files of the PostgreSQL suite: under a postgres/ folder, or named postgres.*.test.ts. */
function postgresTestFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((file) => path.join(dir, file))
    .filter((file) => file.endsWith('.test.ts') && (file.split(path.sep).includes('postgres') || path.basename(file).startsWith('postgres.')));
}

it('leaves the PostgreSQL suite to npm run test:pg, and says so', async () => {
  const files = postgresTestFiles('test');
  expect(files.length).toBeGreaterThan(0);
  const here = (await postgresAnswers(1000))
    ? `PostgreSQL answers at ${maskDatabaseUrl(ADMIN_URL)}: run npm run test:pg`
    : `no PostgreSQL answers at ${maskDatabaseUrl(ADMIN_URL)} (RELAY_TEST_POSTGRES_URL); npm run test:pg needs one`;
  process.stdout.write(`\nThe PostgreSQL suite (${files.length} files) did not run in npm test. ${here}.\n`);
});

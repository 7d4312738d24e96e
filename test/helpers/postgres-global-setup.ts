import { maskDatabaseUrl } from '../../src/store/postgres/mask-database-url.js';
import { ADMIN_URL, postgresAnswers } from './postgres.js';

/** `npm run test:pg` fails at once, saying why, when PostgreSQL does not answer: its tests never pass by not running. */
export default async function setup(): Promise<void> {
  if (await postgresAnswers(3000)) return;
  throw new Error(
    `the PostgreSQL suite needs a PostgreSQL at ${maskDatabaseUrl(ADMIN_URL)} (set RELAY_TEST_POSTGRES_URL for another); ` +
      'none answers. Start it, e.g. pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  );
}

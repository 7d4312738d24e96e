import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where the test PostgreSQL answers (trust authentication); RELAY_TEST_POSTGRES_URL overrides it. */
export const ADMIN_URL = process.env.RELAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database of its own for one test file. */
export interface TestDatabase {
  url: string;
  name: string;
  /** Ends every connection still open to it and drops it. */
  drop(): Promise<void>;
}

/** Whether the test PostgreSQL answers within `timeoutMs`. */
export async function postgresAnswers(timeoutMs = 2000): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates an empty database named trade_relay_test_<random> on the test PostgreSQL; null when it
 * does not answer.
 */
export async function createTestDatabase(): Promise<TestDatabase | null> {
  if (!(await postgresAnswers())) return null;
  const name = `trade_relay_test_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Runs one statement on the admin database. */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A client of its own on a test database (to hold locks, read rows past the store), ended by the caller. */
export async function connectTo(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

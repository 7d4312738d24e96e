import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../../src/store/postgres/create-postgres-store.js';
import { lockId } from '../../../src/store/postgres/lock-id.js';
import { MIGRATIONS, SchemaTooNewError } from '../../../src/store/postgres/migrations.js';
import { StoreUnavailableError } from '../../../src/store/store.js';
import { connectTo, createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { raw } from './fixtures.js';

// Each test has a database of its own: migrations are about an empty one.
let db: TestDatabase;
beforeEach(async () => {
  const created = await createTestDatabase();
  if (created === null) throw new Error('PostgreSQL does not answer');
  db = created;
});
afterEach(async () => {
  await db.drop();
});

describe('PostgreSQL migrations', () => {
  it('migrates once when five instances start at once on an empty database', async () => {
    const stores = await Promise.all(Array.from({ length: 5 }, () => createPostgresStore(db.url)));
    try {
      expect(MIGRATIONS).toHaveLength(3);
      expect(await raw(db.url, 'SELECT version FROM schema_version ORDER BY version')).toEqual(MIGRATIONS.map((_, i) => ({ version: i + 1 })));
      const tables = await raw<{ table_name: string }>(
        db.url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'alert_fingerprints',
        'key_records',
        'paper_books',
        'rate_limits',
        'relay_instances',
        'schema_version',
        'settings',
        'signal_log',
        'strategy_keys',
        'users',
      ]);
      // every instance works on the one schema
      await Promise.all(stores.map((store, i) => store.setSetting(`instance-${i}`, String(i))));
      expect(await stores[0]?.getSetting('instance-4')).toBe('4');
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('reopens a migrated database without migrating it again, keeping what it holds', async () => {
    const first = await createPostgresStore(db.url);
    await first.saveUser({ relayUser: 'bob', crosstradeKey: 'k'.repeat(10), webhookUrl: 'https://x.test/v1/send/a/b' });
    await first.close();
    const applied = await raw<{ applied_at: Date }>(db.url, 'SELECT applied_at FROM schema_version ORDER BY version');
    const second = await createPostgresStore(db.url);
    try {
      expect((await second.getUser('bob'))?.crosstradeKey).toBe('k'.repeat(10));
      expect(await raw(db.url, 'SELECT applied_at FROM schema_version ORDER BY version')).toEqual(applied);
    } finally {
      await second.close();
    }
  });

  it('brings a version 2 database (before the shared rate limits) to version 3, keeping what it holds', async () => {
    const client = await connectTo(db.url);
    try {
      await client.query('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      for (const [i, step] of MIGRATIONS.slice(0, 2).entries()) {
        await client.query(step);
        await client.query('INSERT INTO schema_version (version) VALUES ($1)', [i + 1]);
      }
      await client.query(
        "INSERT INTO users VALUES ('bob', 'kkkkkkkkkk', 'https://x.test/v1/send/a/b', NULL, 'group-1', false, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
      );
    } finally {
      await client.end();
    }
    const store = await createPostgresStore(db.url);
    try {
      expect(await raw(db.url, 'SELECT version FROM schema_version ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
      expect((await store.getUser('bob'))?.crosstradeKey).toBe('kkkkkkkkkk');
      const rule = { kind: 'window', limit: 1, windowMs: 60_000 } as const;
      expect((await store.takeLimit('webhook', '192.0.2.1', rule, 1_000)).allowed).toBe(true);
      expect((await store.takeLimit('webhook', '192.0.2.1', rule, 2_000)).allowed).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('refuses a database written by a newer relay, saying so', async () => {
    await (await createPostgresStore(db.url)).close();
    const client = await connectTo(db.url);
    await client.query('INSERT INTO schema_version (version) VALUES ($1)', [MIGRATIONS.length + 1]);
    await client.end();
    const opening = createPostgresStore(db.url);
    await expect(opening).rejects.toThrow(SchemaTooNewError);
    await expect(opening).rejects.toThrow(
      `database schema version ${MIGRATIONS.length + 1} is newer than this relay understands (${MIGRATIONS.length}); upgrade the relay`,
    );
  });

  it('waits for another instance’s migration (its lock), and gives up as unavailable past the start budget', async () => {
    const other = await connectTo(db.url);
    try {
      await other.query('SELECT pg_advisory_lock($1)', [lockId('migrations', 'schema')]);
      const started = Date.now();
      await expect(createPostgresStore(db.url, { startTimeoutMs: 300 })).rejects.toThrow(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(2000);
      const waiting = createPostgresStore(db.url);
      let opened = false;
      void waiting.then(() => {
        opened = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(opened).toBe(false);
      await other.query('SELECT pg_advisory_unlock($1)', [lockId('migrations', 'schema')]);
      const store = await waiting;
      await store.close();
      expect(await raw(db.url, 'SELECT count(*)::int AS n FROM schema_version')).toEqual([{ n: MIGRATIONS.length }]);
    } finally {
      await other.end();
    }
  });
});

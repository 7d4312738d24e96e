import { createPostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/create-postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { connectTo, createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import type { StoreHarness, StoreOpenOptions } from './contract/store-harness.js';

/**
 * The contract's harness over PostgreSQL: one database per test file (setup/teardown), and per
 * `open()` a new schema in it, reached through the URL's search_path, so every test starts on an
 * empty, freshly migrated database without paying for a CREATE DATABASE.
 */
export function postgresHarness(extra: PostgresStoreOptions = {}): StoreHarness {
  let db: TestDatabase | null = null;
  let url: string | null = null;
  let schemas: string[] = [];
  let opened: Store[] = [];
  const openOn = async (on: string, options: StoreOpenOptions) => {
    const store = await createPostgresStore(on, { ...extra, ...(options.now ? { now: options.now } : {}) });
    opened.push(store);
    return store;
  };
  const admin = async (sql: string) => {
    if (db === null) throw new Error('setup() first');
    const client = await connectTo(db.url);
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    name: 'postgres',
    setup: async () => {
      db = await createTestDatabase();
      if (db === null) throw new Error('PostgreSQL does not answer: the contract cannot run against it');
    },
    teardown: async () => {
      await db?.drop();
      db = null;
    },
    open: async (options = {}) => {
      if (db === null) throw new Error('setup() first');
      const schema = `contract_${schemas.length}_${Date.now()}`;
      await admin(`CREATE SCHEMA ${schema}`);
      schemas.push(schema);
      const withSchema = new URL(db.url);
      withSchema.searchParams.set('options', `-c search_path=${schema}`);
      url = withSchema.toString();
      return openOn(url, options);
    },
    reopen: async (options = {}) => {
      if (url === null) throw new Error('reopen() needs an open() first');
      return openOn(url, options);
    },
    cleanup: async () => {
      const stores = opened;
      opened = [];
      await Promise.all(stores.map((store) => store.close()));
      const dropped = schemas;
      schemas = [];
      url = null;
      for (const schema of dropped) await admin(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

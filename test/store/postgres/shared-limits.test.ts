import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../../src/store/postgres/create-postgres-store.js';
import type { LimitRule, Store } from '../../../src/store/store.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { raw, T0 } from './fixtures.js';

// Issue 10: a rate limit holds across the instances on one database, not per process; its rows
// are pruned once they say nothing any more.

const WINDOW: LimitRule = { kind: 'window', limit: 10, windowMs: 15 * 60_000 };
const BUCKET: LimitRule = { kind: 'bucket', capacity: 20, refillPerSecond: 3 };

let db: TestDatabase;
let opened: Store[] = [];
beforeAll(async () => {
  const created = await createTestDatabase();
  if (created === null) throw new Error('PostgreSQL does not answer');
  db = created;
});
afterAll(async () => {
  await db?.drop();
});
afterEach(async () => {
  await Promise.all(opened.map((store) => store.close()));
  opened = [];
  await raw(db.url, 'DELETE FROM rate_limits');
});

const open = async () => {
  const store = await createPostgresStore(db.url, { now: () => T0 });
  opened.push(store);
  return store;
};

describe('rate limits shared by the instances on one database', () => {
  it('counts the takes of three instances at once in one window and one bucket', async () => {
    const stores = [await open(), await open(), await open()];
    const windowAnswers = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3]?.takeLimit('admin-failures', '192.0.2.7', WINDOW, T0)));
    expect(windowAnswers.filter((a) => a?.allowed)).toHaveLength(10);
    for (const store of stores) expect((await store.limitReached('admin-failures', '192.0.2.7', WINDOW, T0)).allowed).toBe(false);
    const bucketAnswers = await Promise.all(Array.from({ length: 45 }, (_, i) => stores[i % 3]?.takeLimit('crosstrade-api', 'group-a', BUCKET, T0)));
    expect(bucketAnswers.filter((a) => a?.allowed)).toHaveLength(20);
    // One row per (limit, subject), whoever took.
    expect(await raw(db.url, 'SELECT name, subject FROM rate_limits ORDER BY name')).toEqual([
      { name: 'admin-failures', subject: '192.0.2.7' },
      { name: 'crosstrade-api', subject: 'group-a' },
    ]);
  });

  it('forgets a subject reset through another instance', async () => {
    const [a, b] = [await open(), await open()];
    for (let i = 0; i < 10; i++) await a.takeLimit('admin-failures', '192.0.2.7', WINDOW, T0);
    expect((await b.limitReached('admin-failures', '192.0.2.7', WINDOW, T0)).allowed).toBe(false);
    await b.resetLimit('admin-failures', '192.0.2.7');
    expect((await a.limitReached('admin-failures', '192.0.2.7', WINDOW, T0)).used).toBe(0);
  });

  it('prunes rows past their expiry after a later take, keeping the live ones', async () => {
    const store = await open();
    await store.takeLimit('webhook', '192.0.2.1', { kind: 'window', limit: 600, windowMs: 60_000 }, T0);
    await store.takeLimit('crosstrade-api', 'group-a', BUCKET, T0);
    // Two hours later: both rows say nothing any more; the take that prunes keeps its own.
    await store.takeLimit('webhook', '192.0.2.2', { kind: 'window', limit: 600, windowMs: 60_000 }, T0 + 7_200_000);
    const subjects = async () => (await raw<{ subject: string }>(db.url, 'SELECT subject FROM rate_limits ORDER BY subject')).map((r) => r.subject);
    for (let i = 0; i < 100 && (await subjects()).length > 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await subjects()).toEqual(['192.0.2.2']);
  });
});

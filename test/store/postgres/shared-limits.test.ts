import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../../src/store/postgres/create-postgres-store.js';
import type { LimitRule, Store } from '../../../src/store/store.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { countQueries, raw, T0 } from './fixtures.js';

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

  describe('taken ahead (LimitRule.aheadMs)', () => {
    const AHEAD: LimitRule = { kind: 'window', limit: 50, windowMs: 60_000, aheadMs: 250 };
    it('a steady stream from one source costs a statement per batch, not per take, and stops at the limit', async () => {
      const store = await open();
      const counter = countQueries();
      let allowed = 0;
      try {
        // 60 takes 2 ms apart: a steady 500 a second from one address.
        for (let i = 0; i < 60; i++) if ((await store.takeLimit('webhook', '192.0.2.9', AHEAD, T0 + 2 * i)).allowed) allowed++;
      } finally {
        counter.restore();
      }
      expect(allowed).toBe(50);
      expect(counter.take().statements).toBeLessThan(12);
      // The first refusal is counted; the next ones, until the window ends, are answered by the instance.
      expect(await raw(db.url, "SELECT amount FROM rate_limits WHERE subject = '192.0.2.9'")).toEqual([{ amount: 51 }]);
    });

    it('two instances taking ahead at once are never granted more than the limit in all, a window or a bucket', async () => {
      const [a, b] = [await open(), await open()];
      const takes = (rule: LimitRule, subject: string) =>
        Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).takeLimit('webhook', subject, rule, T0 + Math.floor(i / 4))));
      const window = await takes(AHEAD, '192.0.2.10');
      expect(window.filter((answer) => answer.allowed).length).toBeLessThanOrEqual(50);
      const bucket = await takes({ kind: 'bucket', capacity: 20, refillPerSecond: 3, aheadMs: 250 }, 'group-b');
      // 50 ms of refill at 3 a second adds no whole token.
      expect(bucket.filter((answer) => answer.allowed).length).toBeLessThanOrEqual(20);
    });

    it('gives back what it took ahead and never spent: a window and a bucket grant every take the rule allows', async () => {
      const store = await open();
      const bursts = async (rule: LimitRule, subject: string, firsts: number, seconds: number) => {
        const answers = [];
        // A burst, a pause longer than aheadMs, a second burst: the first leaves events taken ahead unspent.
        for (let i = 0; i < firsts; i++) answers.push(await store.takeLimit('webhook', subject, rule, T0 + i));
        for (let i = 0; i < seconds; i++) answers.push(await store.takeLimit('webhook', subject, rule, T0 + 1000 + i));
        return answers.map((answer) => answer.allowed);
      };
      // Ten a minute: four, then six, all let through (three were refused, held ahead and unspent).
      expect(await bursts({ kind: 'window', limit: 10, windowMs: 60_000, aheadMs: 250 }, '192.0.2.12', 4, 6)).toEqual(Array(10).fill(true));
      // And the eleventh refused.
      expect((await store.takeLimit('webhook', '192.0.2.12', { kind: 'window', limit: 10, windowMs: 60_000, aheadMs: 250 }, T0 + 2000)).allowed).toBe(false);
      // A bucket of ten refilled at one a minute: the same.
      expect(await bursts({ kind: 'bucket', capacity: 10, refillPerSecond: 1 / 60, aheadMs: 250 }, 'group-c', 4, 6)).toEqual(Array(10).fill(true));
    });

    it('gives back, once aheadMs has passed, what one instance took ahead: another is not refused for it', async () => {
      const rule: LimitRule = { kind: 'window', limit: 10, windowMs: 60_000, aheadMs: 250 };
      const [a, b] = [await open(), await open()];
      for (let i = 0; i < 4; i++) expect((await a.takeLimit('webhook', '192.0.2.13', rule, T0 + i)).allowed).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const answers = [];
      for (let i = 0; i < 7; i++) answers.push((await b.takeLimit('webhook', '192.0.2.13', rule, T0 + 1000 + i)).allowed);
      expect(answers).toEqual([...Array(6).fill(true), false]);
    });

    it('spends what it took ahead only within aheadMs: a take later asks the database', async () => {
      const store = await open();
      await store.takeLimit('webhook', '192.0.2.11', AHEAD, T0);
      // The second take within 250 ms takes two: one is left for later.
      await store.takeLimit('webhook', '192.0.2.11', AHEAD, T0 + 10);
      expect(await raw(db.url, "SELECT amount FROM rate_limits WHERE subject = '192.0.2.11'")).toEqual([{ amount: 3 }]);
      const counter = countQueries();
      try {
        await store.takeLimit('webhook', '192.0.2.11', AHEAD, T0 + 20);
        expect(counter.take().statements).toBe(0);
        await store.takeLimit('webhook', '192.0.2.11', AHEAD, T0 + 400);
        expect(counter.take().statements).toBe(1);
      } finally {
        counter.restore();
      }
    });
  });
});

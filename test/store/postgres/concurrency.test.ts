import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../../src/engine/types.js';
import { createPostgresStore } from '../../../src/store/postgres/create-postgres-store.js';
import { lockId } from '../../../src/store/postgres/lock-id.js';
import { keyId } from '../../../src/store/rows.js';
import type { ArbitrationDecision, PositionKey, Store } from '../../../src/store/store.js';
import { connectTo, createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { A, BOB_KEY, emptyTables, GROUP, key, log, owner, raw, record, write, writing } from './fixtures.js';

// Several instances on one database: the keys an alert decides on are held against every other
// writer, whichever instance it runs in.

let db: TestDatabase;
let instances: Store[];
const errors: unknown[] = [];

beforeAll(async () => {
  const created = await createTestDatabase();
  if (created === null) throw new Error('PostgreSQL does not answer');
  db = created;
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  errors.length = 0;
  // Two instances: two pools on one database. These tests are about who wins, not about the
  // time budget (errors.test.ts): a budget that a loaded test machine cannot overrun.
  instances = await Promise.all(
    [0, 1].map(() => createPostgresStore(db.url, { callTimeoutMs: 8000, lockTimeoutMs: 6000, onBackgroundError: (error) => errors.push(error) })),
  );
  await emptyTables(db.url);
});
afterEach(async () => {
  await Promise.all(instances.map((store) => store.close()));
  expect(errors).toEqual([]);
});

/** An entry: claims the keys when nobody owns any of them; answers whether it claimed. */
const claimIfUnowned =
  (who: Strategy, keys: PositionKey[]): ArbitrationDecision<boolean> =>
  (views) => {
    const free = views.every((view) => view.record.owner === null);
    return {
      value: free,
      writes: keys.map(() => (free ? write({ owner: owner(who), doubt: { kind: 'in-flight', since: 1 } }) : null)),
      seen: false,
      log: log({ relayId: who.relayId, decision: free ? 'pending' : 'blocked' }),
    };
  };

describe('several instances on one PostgreSQL database', () => {
  it('lets exactly one of 40 simultaneous entries on one key claim it, across two instances', async () => {
    const attempts = Array.from({ length: 40 }, (_, i) => {
      const who: Strategy = { relayUser: 'bob', relayId: `S${i}` };
      return (instances[i % 2] as Store).arbitrate([key], who, claimIfUnowned(who, [key]), null);
    });
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r.value)).toHaveLength(1);
    expect(await raw(db.url, 'SELECT decision, count(*)::int AS n FROM signal_log GROUP BY decision ORDER BY decision')).toEqual([
      { decision: 'blocked', n: 39 },
      { decision: 'pending', n: 1 },
    ]);
    const winner = results.findIndex((r) => r.value);
    expect(await instances[0]?.listPositions()).toMatchObject([{ relayId: `S${winner}`, doubt: 'in-flight' }]);
  });

  it('never deadlocks alerts that name the same keys in opposite orders', async () => {
    const other: PositionKey = { ...key, instrumentKey: 'NQ' };
    const third: PositionKey = { ...key, account: 'Sim102' };
    const orders = [
      [key, other, third],
      [third, other, key],
      [other, key],
      [third, key],
    ];
    const attempts = Array.from({ length: 40 }, (_, i) => {
      const who: Strategy = { relayUser: 'bob', relayId: `S${i}` };
      const keys = orders[i % orders.length] as PositionKey[];
      return (instances[i % 2] as Store).arbitrate(keys, who, claimIfUnowned(who, keys), null);
    });
    const results = await Promise.all(attempts);
    // Whoever came first took all of its keys; nobody else could take any of them.
    expect(results.filter((r) => r.value)).toHaveLength(1);
    const owners = await raw<{ owner_id: string }>(db.url, 'SELECT DISTINCT owner_id FROM key_records');
    expect(owners).toHaveLength(1);
  });

  it('does not hold an alert up behind queued outcomes of other keys that another writer holds', async () => {
    const store = instances[0] as Store;
    const busy: PositionKey = { ...key, instrumentKey: 'NQ' };
    const sent = await store.arbitrate([busy], A, writing([write(record(A, 'in-flight'))]), null);
    const holder = await connectTo(db.url);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [lockId('key', keyId(busy))]);
      // Its outcome waits for the key in the background...
      store.settle({ keys: [{ key: busy, version: sent.versions[0]!, write: write(record(A)) }], log: null });
      await new Promise((resolve) => setTimeout(resolve, 20));
      // ...and an alert on another key does not wait with it.
      const started = Date.now();
      await store.arbitrate([key], A, writing([write(record(A))]), null);
      expect(Date.now() - started).toBeLessThan(500);
      // A decision on the held key itself waits for its outcome first.
      const onBusy = store.arbitrate([busy], A, (views) => ({ value: views[0]?.record, writes: [null], seen: false, log: null }), null);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await holder.query('COMMIT');
      expect((await onBusy).value).toEqual(record(A));
    } finally {
      await holder.end();
    }
  });

  it('plans an alert again when its user changed while it waited for its keys', async () => {
    const store = instances[0] as Store;
    await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
    const holder = await connectTo(db.url);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [lockId('group', GROUP)]);
      const secrets: (string | null)[] = [];
      const deciding = store.arbitrateAs('bob', (user) => {
        secrets.push(user?.relaySecret ?? null);
        return { keys: [key], sender: A, decide: () => ({ value: user?.relaySecret, writes: [null], seen: false, log: null }), identity: null };
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Another instance (or the CLI) changes the user meanwhile.
      await (instances[1] as Store).saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b', relaySecret: 'sha256:new' });
      await holder.query('COMMIT');
      expect((await deciding)?.value).toBe('sha256:new');
      expect(secrets).toEqual([null, 'sha256:new']);
    } finally {
      await holder.end();
    }
  });

  it('plans an alert that lists its account group again when a key joined the group meanwhile', async () => {
    const store = instances[0] as Store;
    await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
    await store.arbitrate([key], A, writing([write(record(A))]), null);
    const joined: PositionKey = { ...key, instrumentKey: 'NQ' };
    const holder = await connectTo(db.url);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock_shared($1)', [lockId('group', GROUP)]);
      await holder.query('SELECT pg_advisory_xact_lock($1)', [lockId('key', keyId(joined))]);
      const deciding = store.arbitrateAs('bob', (user, listKeys) => {
        const keys = listKeys(user!.accountGroup);
        return {
          keys,
          sender: A,
          decide: () => ({ value: keys.map((k) => k.instrumentKey), writes: keys.map(() => null), seen: false, log: null }),
          identity: null,
        };
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Another instance's entry on NQ, holding its locks as the store does, commits first.
      await holder.query(
        `INSERT INTO key_records (account_group, account_key, instrument_key, account, instrument, owner_user, owner_id, direction, updated_at, version)
         VALUES ($1, 'sim101', 'NQ', 'Sim101', 'NQ 03-26', 'bob', 'B', 'long', 1, 1)`,
        [GROUP],
      );
      await holder.query('COMMIT');
      expect((await deciding)?.value).toEqual(['ES', 'NQ']);
    } finally {
      await holder.end();
    }
  });

  it('writes every outcome once while alerts and outcomes of several keys overlap in two instances', async () => {
    const keys = ['ES', 'NQ', 'RTY', 'CL'].map((instrumentKey) => ({ ...key, instrumentKey }));
    const rounds = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const store = instances[i % 2] as Store;
        const k = keys[i % keys.length] as PositionKey;
        const who: Strategy = { relayUser: 'bob', relayId: `S${i}` };
        const sent = await store.arbitrate([k], who, () => ({ value: null, writes: [null], seen: false, log: log({ relayId: who.relayId }) }), null);
        store.settle({ keys: [], log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'delivered', upstreamStatus: 200, latencyMs: i } } });
        return sent.logId;
      }),
    );
    await Promise.all(instances.map((store) => store.flush()));
    const rows = await raw<{ id: number; decision: string; latency_ms: number }>(db.url, 'SELECT id, decision, latency_ms FROM signal_log ORDER BY id');
    expect(rows).toHaveLength(24);
    expect(rows.every((row) => row.decision === 'forwarded')).toBe(true);
    expect(new Set(rows.map((row) => Number(row.id)))).toEqual(new Set(rounds));
  });
});

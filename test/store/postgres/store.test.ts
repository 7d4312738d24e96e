import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStoreOptions } from '../../../src/store/postgres/create-postgres-store.js';
import type { ArbitrationPlan, Store, UserRecord } from '../../../src/store/store.js';
import { connectTo, createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { lockId } from '../../../src/store/postgres/lock-id.js';
import { keyId } from '../../../src/store/rows.js';
import { A, B, BOB_KEY, countQueries, emptyTables, GROUP, identity, key, log, look, raw, record, T0, write, writing } from './fixtures.js';

// What only the PostgreSQL store does: how it plans and decides in few round trips (the user as
// last read, the listed account groups read between two plans, pipelined statements), and its
// own queue of outcomes. Everything both stores do is the contract suite's (test/store/contract).

let db: TestDatabase;
let store: Store;
let clock: number;
const errors: unknown[] = [];
const open = (options: PostgresStoreOptions = {}) =>
  createPostgresStore(db.url, { now: () => clock, onBackgroundError: (error) => errors.push(error), ...options });

beforeAll(async () => {
  const created = await createTestDatabase();
  if (created === null) throw new Error('PostgreSQL does not answer');
  db = created;
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  clock = T0;
  errors.length = 0;
  store = await open();
  await emptyTables(db.url);
});
afterEach(async () => {
  await store.close();
  expect(errors).toEqual([]);
});

const WEBHOOK = 'https://app.crosstrade.io/v1/send/x/y';

/** An entry of strategy A on its own account, decided for whatever user the plan is given. */
const entryPlan =
  (account: string) =>
  (user: UserRecord | null): ArbitrationPlan<null> | null =>
    user === null
      ? null
      : {
          keys: [{ ...key, accountGroup: user.accountGroup, account }],
          sender: A,
          identity: identity(`fp-${account}`),
          decide: writing([write(record(A, 'in-flight'))], { seen: true, log: log({ account }) }),
        };

describe('PostgreSQL store', () => {
  describe('round trips', () => {
    it('decides an alert of a user it has read in two round trips (BEGIN + locks + read, write + COMMIT) and writes its outcome in two', async () => {
      // No heartbeat while counting.
      const s = await open({ heartbeatMs: 60_000 });
      try {
        await s.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: WEBHOOK });
        await s.arbitrateAs('bob', entryPlan('Sim1')); // connection open, statements prepared
        const counter = countQueries();
        try {
          const first = await s.arbitrateAs('bob', entryPlan('Sim2'));
          const decision = counter.take().roundTrips;
          s.settle({
            keys: [{ key: { ...key, account: 'Sim2' }, version: first!.versions[0]!, write: write(record(A)) }],
            log: { id: first!.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 1 } },
          });
          await s.flush();
          const settlement = counter.take().roundTrips;
          expect({ decision, settlement }).toEqual({ decision: 2, settlement: 2 });
        } finally {
          counter.restore();
        }
        expect((await look(s, [{ ...key, account: 'Sim2' }])).views[0]?.record).toEqual(record(A));
        expect(await s.listLogs({ limit: 1 })).toMatchObject([{ account: 'Sim2', decision: 'forwarded' }]);
      } finally {
        await s.close();
      }
    });
  });

  describe('a look without locks (ArbitrationPlan.look)', () => {
    /** Holds the key's advisory lock in a transaction of another connection, as another instance deciding on it would. */
    async function holdKeyLock(k: typeof key) {
      const client = await connectTo(db.url);
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock('${lockId('key', keyId(k))}'::bigint)`);
      return async () => {
        await client.query('ROLLBACK');
        await client.end();
      };
    }
    const lookPlan =
      <T>(account: string, decide: ArbitrationPlan<T>['decide']) =>
      (user: UserRecord | null): ArbitrationPlan<T> | null =>
        user === null
          ? null
          : { keys: [{ ...key, accountGroup: user.accountGroup, account }], sender: A, identity: identity(`fp-look-${account}`), decide, look: true };

    it('answers a decision that writes nothing in one round trip, without waiting for the key’s lock, and with this process’s queued outcome applied', async () => {
      const s = await open({ heartbeatMs: 60_000, outcomeGroupMs: 60_000 });
      try {
        await s.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: WEBHOOK });
        const group = (await s.getUser('bob'))!.accountGroup;
        const entered = await s.arbitrateAs('bob', entryPlan('Sim1'));
        // Queued, not written: the look must see it all the same.
        s.settle({
          keys: [{ key: { ...key, accountGroup: group, account: 'Sim1' }, version: entered!.versions[0]!, write: write(record(A)) }],
          log: { id: entered!.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 1 } },
        });
        const release = await holdKeyLock({ ...key, accountGroup: group, account: 'Sim1' });
        const counter = countQueries();
        try {
          const seen = await s.arbitrateAs(
            'bob',
            lookPlan('Sim1', (views) => ({ value: views[0]?.record ?? null, writes: [null], seen: false, log: null })),
          );
          expect(counter.take().roundTrips).toBe(1);
          expect(seen).toMatchObject({ value: record(A), logId: null });
        } finally {
          counter.restore();
          await release();
        }
        // The outcome the look applied in memory is still written.
        await s.flush();
        expect(await raw(db.url, "SELECT decision FROM signal_log WHERE account = 'Sim1'")).toEqual([{ decision: 'forwarded' }]);
        expect(await raw(db.url, "SELECT doubt FROM key_records WHERE account_key = 'sim1'")).toEqual([{ doubt: null }]);
      } finally {
        await s.close();
      }
    });

    it('puts back the queued outcomes it applied so they are written as soon as they would have been, not after a failure’s retry delay', async () => {
      const s = await open({ heartbeatMs: 60_000, outcomeGroupMs: 30, retryMs: 5_000 });
      try {
        await s.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: WEBHOOK });
        const group = (await s.getUser('bob'))!.accountGroup;
        const entered = await s.arbitrateAs('bob', entryPlan('Sim4'));
        // The look's read waits behind a table lock past the 30 ms at which the outcome was to be written.
        const blocker = await connectTo(db.url);
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE key_records IN ACCESS EXCLUSIVE MODE');
        s.settle({
          keys: [{ key: { ...key, accountGroup: group, account: 'Sim4' }, version: entered!.versions[0]!, write: write(record(A)) }],
          log: { id: entered!.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 1 } },
        });
        const looked = s.arbitrateAs(
          'bob',
          lookPlan('Sim4', (views) => ({ value: views[0]?.record ?? null, writes: [null], seen: false, log: null })),
        );
        await new Promise((resolve) => setTimeout(resolve, 150));
        await blocker.query('ROLLBACK');
        await blocker.end();
        expect((await looked)?.value).toEqual(record(A));
        const since = Date.now();
        while ((await raw<{ decision: string }>(db.url, "SELECT decision FROM signal_log WHERE account = 'Sim4'"))[0]?.decision === 'pending') {
          expect(Date.now() - since).toBeLessThan(2_000);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await s.close();
      }
    });

    it('decides under the locks what would write: it waits for the key’s lock, and writes its row', async () => {
      const s = await open({ heartbeatMs: 60_000, lockTimeoutMs: 300, busyRetries: 0 });
      try {
        await s.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: WEBHOOK });
        const group = (await s.getUser('bob'))!.accountGroup;
        const release = await holdKeyLock({ ...key, accountGroup: group, account: 'Sim3' });
        const writes = lookPlan('Sim3', writing([write(record(A, 'in-flight'))], { seen: true, log: log({ account: 'Sim3' }) }));
        try {
          await expect(s.arbitrateAs('bob', writes)).rejects.toThrow();
        } finally {
          await release();
        }
        const decided = await s.arbitrateAs('bob', writes);
        expect(decided?.logId).not.toBeNull();
        expect(await raw(db.url, "SELECT decision FROM signal_log WHERE account = 'Sim3'")).toEqual([{ decision: 'pending' }]);
      } finally {
        await s.close();
      }
    });
  });

  describe('a round decided on its look’s read (ArbitrationPlan.after)', () => {
    type Seen = { owner: string | null; earlier: boolean };
    /** An owner's exit as handle-alert decides it: the look asks for a reading (writes nothing); the round after it closes A's position, unless the key is not A's or the alert was decided before. */
    const exitDecision: ArbitrationPlan<Seen>['decide'] = (views, earlier) => {
      const value = { owner: views[0]?.record.owner?.relayId ?? null, earlier: earlier !== null };
      if (value.owner !== 'A' || value.earlier) return { value, writes: [null], seen: false, log: null };
      return { value, writes: [write(record(A, 'in-flight'))], seen: true, log: log({ account: 'Sim6', signalType: 'exit' }) };
    };
    const plan =
      (group: () => string, extra: Partial<ArbitrationPlan<Seen>>) =>
      (user: UserRecord | null): ArbitrationPlan<Seen> | null =>
        user === null
          ? null
          : { keys: [{ ...key, accountGroup: group(), account: 'Sim6' }], sender: A, identity: identity('fp-exit-Sim6'), decide: exitDecision, ...extra };
    const asksReading: ArbitrationPlan<Seen>['decide'] = (views) => ({
      value: { owner: views[0]?.record.owner?.relayId ?? null, earlier: false },
      writes: [null],
      seen: false,
      log: null,
    });

    /** bob, and A owning Sim6 (written, nothing queued); answers bob's account group. */
    async function ownedByA(s: Store): Promise<string> {
      await s.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: WEBHOOK });
      const group = (await s.getUser('bob'))!.accountGroup;
      await s.arbitrate([{ ...key, accountGroup: group, account: 'Sim6' }], A, writing([write(record(A))]), null);
      return group;
    }

    it('writes the round after the look in one round trip (BEGIN, locks, the read checked again, write, COMMIT), as the usual round would', async () => {
      const s = await open({ heartbeatMs: 60_000 });
      try {
        const group = await ownedByA(s);
        // Statements prepared, as in a relay that has run a while.
        await s.arbitrateAs(
          'bob',
          plan(() => group, { decide: asksReading, look: true, keys: [{ ...key, accountGroup: group, account: 'Sim7' }] }),
        );
        const looked = await s.arbitrateAs(
          'bob',
          plan(() => group, { decide: asksReading, look: true }),
        );
        expect(looked?.look).toBeDefined();
        const counter = countQueries();
        let decided: Awaited<ReturnType<Store['arbitrateAs']>>;
        try {
          decided = await s.arbitrateAs(
            'bob',
            plan(() => group, { after: looked!.look! }),
          );
          expect(counter.take().roundTrips).toBe(1);
        } finally {
          counter.restore();
        }
        expect(decided?.value).toEqual({ owner: 'A', earlier: false });
        expect(await raw(db.url, "SELECT doubt, version FROM key_records WHERE account_key = 'sim6'")).toEqual([
          { doubt: 'in-flight', version: String(decided!.versions[0]) },
        ]);
        expect(await raw(db.url, "SELECT id, decision FROM signal_log WHERE account = 'Sim6'")).toEqual([{ id: String(decided!.logId), decision: 'pending' }]);
        expect(await raw(db.url, "SELECT last_fingerprint FROM strategy_keys WHERE account_key = 'sim6' AND relay_id = 'A'")).toEqual([
          { last_fingerprint: 'fp-exit-Sim6' },
        ]);
      } finally {
        await s.close();
      }
    });

    /** A looks at Sim6 on one instance; `meanwhile` runs on another (during the CrossTrade reading); then the round after the look. */
    async function decideAfter(meanwhile: (beside: Store, group: string) => Promise<unknown>) {
      const s = await open({ heartbeatMs: 60_000 });
      const beside = await open({ heartbeatMs: 60_000 });
      try {
        const group = await ownedByA(s);
        const looked = await s.arbitrateAs(
          'bob',
          plan(() => group, { decide: asksReading, look: true }),
        );
        await meanwhile(beside, group);
        return await s.arbitrateAs(
          'bob',
          plan(() => group, { after: looked!.look! }),
        );
      } finally {
        await beside.close();
        await s.close();
      }
    }

    it('decides again on the key as it is when another instance changed its owner since the look', async () => {
      // A's position is released and B enters.
      const decided = await decideAfter((beside, group) =>
        beside.arbitrate([{ ...key, accountGroup: group, account: 'Sim6' }], B, writing([write(record(B, 'in-flight'))]), null),
      );
      expect(decided?.value).toEqual({ owner: 'B', earlier: false });
      expect(await raw(db.url, "SELECT owner_id, doubt FROM key_records WHERE account_key = 'sim6'")).toEqual([{ owner_id: 'B', doubt: 'in-flight' }]);
      expect(await raw(db.url, "SELECT count(*)::int AS n FROM signal_log WHERE account = 'Sim6'")).toEqual([{ n: 0 }]);
    });

    it('decides again when another instance decided a copy of the alert since the look (a resend), which is then a repeat', async () => {
      // The copy is decided without touching the key's record: only its fingerprint and marks change.
      const decided = await decideAfter((beside, group) =>
        beside.arbitrate([{ ...key, accountGroup: group, account: 'Sim6' }], A, writing([null], { seen: true }), identity('fp-exit-Sim6')),
      );
      expect(decided?.value).toEqual({ owner: 'A', earlier: true });
      expect(await raw(db.url, "SELECT doubt FROM key_records WHERE account_key = 'sim6'")).toEqual([{ doubt: null }]);
    });

    it('gives no look to decide on when the look applied outcomes still queued here, and decides a look’s round on it once only', async () => {
      const s = await open({ heartbeatMs: 60_000, outcomeGroupMs: 60_000 });
      try {
        const group = await ownedByA(s);
        const entered = await s.arbitrateAs(
          'bob',
          plan(() => group, { keys: [{ ...key, accountGroup: group, account: 'Sim8' }], decide: writing([write(record(A, 'in-flight'))]) as never }),
        );
        s.settle({ keys: [{ key: { ...key, accountGroup: group, account: 'Sim8' }, version: entered!.versions[0]!, write: write(record(A)) }], log: null });
        const queued = await s.arbitrateAs(
          'bob',
          plan(() => group, { keys: [{ ...key, accountGroup: group, account: 'Sim8' }], decide: asksReading, look: true }),
        );
        expect(queued?.look).toBeUndefined();

        const looked = await s.arbitrateAs(
          'bob',
          plan(() => group, { decide: asksReading, look: true }),
        );
        await s.arbitrateAs(
          'bob',
          plan(() => group, { decide: asksReading, after: looked!.look! }),
        );
        const counter = countQueries();
        try {
          await s.arbitrateAs(
            'bob',
            plan(() => group, { after: looked!.look! }),
          );
          expect(counter.take().roundTrips).toBe(2);
        } finally {
          counter.restore();
        }
      } finally {
        await s.close();
      }
    });
  });

  describe('users as last read', () => {
    it('plans with the user as last read, and again with the one under the locks when it changed through another instance', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: WEBHOOK });
      await store.arbitrateAs('bob', entryPlan('Sim1'));
      const beside = await open();
      try {
        await beside.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://app.crosstrade.io/v1/send/new/hook' });
      } finally {
        await beside.close();
      }
      const seen: string[] = [];
      const result = await store.arbitrateAs('bob', (user) => {
        seen.push(user?.webhookUrl ?? 'none');
        const plan = entryPlan('Sim2')(user);
        return plan === null ? null : { ...plan, decide: (views, earlier) => ({ ...plan.decide(views, earlier), value: user?.webhookUrl }) };
      });
      // Planned once with what it remembered, then with the user read under the locks: decided on that.
      expect(seen).toEqual([WEBHOOK, 'https://app.crosstrade.io/v1/send/new/hook']);
      expect(result?.value).toBe('https://app.crosstrade.io/v1/send/new/hook');
    });

    it('asks a plan that decides nothing (a refused relay_secret) again with the user as it is now', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: WEBHOOK, relaySecret: 'old' });
      await store.arbitrateAs('bob', entryPlan('Sim1'));
      const beside = await open();
      try {
        await beside.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: WEBHOOK, relaySecret: 'new' });
      } finally {
        await beside.close();
      }
      const secrets: (string | null)[] = [];
      const result = await store.arbitrateAs('bob', (user) => {
        secrets.push(user?.relaySecret ?? null);
        return user?.relaySecret === 'new' ? entryPlan('Sim2')(user) : null;
      });
      expect(secrets).toEqual(['old', 'new']);
      expect(result?.logId).toBeTypeOf('number');
    });

    it('answers nothing for a user removed through another instance', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: WEBHOOK });
      await store.arbitrateAs('bob', entryPlan('Sim1'));
      const beside = await open();
      try {
        expect(await beside.removeUser('bob')).toBe(true);
      } finally {
        await beside.close();
      }
      const users: (string | null)[] = [];
      const result = await store.arbitrateAs('bob', (user) => {
        users.push(user?.relayUser ?? null);
        return entryPlan('Sim2')(user);
      });
      expect(users).toEqual(['bob', null]);
      expect(result).toBeNull();
      expect(await store.countLogs({})).toEqual({ pending: 1 });
    });
  });

  describe('users and plans', () => {
    it('lists users in byte order, as the SQLite store does', async () => {
      for (const relayUser of ['bob', 'Zed', 'amy', 'Amy', '_x'])
        await store.saveUser({ relayUser, crosstradeKey: `key-${relayUser}`, webhookUrl: 'https://x.test' });
      expect((await store.listUsers()).map((u) => u.relayUser)).toEqual(['Amy', 'Zed', '_x', 'amy', 'bob']);
    });

    it('reads the user and lets the plan choose the keys (listing its account group); a null plan decides and logs nothing', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://app.crosstrade.io/v1/send/x/y' });
      const nq = { ...key, account: 'sim102', instrumentKey: 'NQ' };
      await store.arbitrate([nq, key], A, writing([write(record(A)), write(record(A))]), null);
      let planned = 0;
      const result = await store.arbitrateAs('bob', (user, listKeys) => {
        planned++;
        expect(user).toMatchObject({ relayUser: 'bob', accountGroup: GROUP });
        const keys = listKeys(user!.accountGroup);
        return {
          keys,
          sender: B,
          decide: writing(
            keys.map(() => write(record(B))),
            { log: log({ relayId: 'B' }) },
          ),
          identity: null,
        };
      });
      // Called again once the listed group was read: the contract allows it.
      expect(planned).toBe(2);
      expect(result?.logId).toBeTypeOf('number');
      expect((await look(store, [key, nq])).views.map((v) => v.record)).toEqual([record(B), record(B)]);
      expect(await store.listKeys(GROUP)).toEqual([key, nq]);

      let seen: unknown = 'not called';
      const nobody = await store.arbitrateAs('nobody', (user) => {
        seen = user;
        return null;
      });
      expect(nobody).toBeNull();
      expect(seen).toBeNull();
      expect(await store.listLogs({ limit: 10 })).toHaveLength(1);
    });

    it('gives a plan’s error to the caller as it is', async () => {
      const oops = new TypeError('plan failed');
      await expect(
        store.arbitrateAs('bob', () => {
          throw oops;
        }),
      ).rejects.toBe(oops);
    });
  });

  describe('the queue of outcomes', () => {
    it('keeps the order of outcomes per key while many alerts and their outcomes overlap', async () => {
      // Each alert takes the key in flight and its outcome settles it; the next alert, started
      // before the outcome was written, must see it settled.
      const seen: string[] = [];
      let previous = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))]), null);
      const rounds = Array.from({ length: 20 }, (_, i) => i);
      const flights: Promise<unknown>[] = [];
      for (const i of rounds) {
        store.settle({ keys: [{ key, version: previous.versions[0]!, write: write(record(A)) }], log: null });
        const next = store.arbitrate(
          [key],
          A,
          (views) => {
            seen.push(views[0]?.record.doubt?.kind ?? 'settled');
            return { value: null, writes: [write(record(A, 'in-flight'))], seen: false, log: log({ relayId: `round-${i}` }) };
          },
          null,
        );
        flights.push(store.listPositions()); // a listing's write of the queue runs beside them
        previous = await next;
      }
      await Promise.all(flights);
      expect(seen).toEqual(rounds.map(() => 'settled'));
      expect(await store.countLogs({})).toEqual({ pending: 20 });
    });
  });
});

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../../src/engine/types.js';
import { accountGroupOf } from '../../../src/store/account-group.js';
import { createPostgresStore, type PostgresStoreOptions } from '../../../src/store/postgres/create-postgres-store.js';
import type { PositionKey, SignalLogInput, Store } from '../../../src/store/store.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { A, B, BOB_KEY, emptyTables, GROUP, identity, key, log, look, mark, owner, raw, record, T0, viewOf, write, writing } from './fixtures.js';

// The PostgreSQL store's behaviour, the same as the SQLite store's (test/store/sqlite-store.test.ts).

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

describe('PostgreSQL store', () => {
  it('says what it is, answers a ping, and needs no wait for durability', async () => {
    expect(store.kind).toBe('postgres');
    expect(await store.ping(500)).toBe(true);
    await expect(store.sync()).resolves.toBeUndefined();
  });

  it('closes once: a second close does nothing, and calls after it fail as unavailable', async () => {
    await store.close();
    await store.close();
    expect(await store.ping(500)).toBe(false);
    await expect(store.getUser('bob')).rejects.toThrow('database unavailable: the store is closed');
  });

  describe('users and account groups', () => {
    it('creates, updates, lists and removes users, each with the account group of its key', async () => {
      expect(await store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-one-1', webhookUrl: 'https://x.test/1' })).toBe('created');
      expect(await store.getUser('bob')).toMatchObject({ relaySecret: null, accountGroup: accountGroupOf('key-one-1'), paper: false });
      expect(await store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-two-2', webhookUrl: 'https://x.test/2', relaySecret: 'sha256:x' })).toBe('updated');
      expect((await store.listUsers()).map((u) => [u.relayUser, u.crosstradeKey, u.webhookUrl, u.relaySecret, u.accountGroup])).toEqual([
        ['bob', 'key-two-2', 'https://x.test/2', 'sha256:x', accountGroupOf('key-two-2')],
      ]);
      expect(await store.removeUser('bob')).toBe(true);
      expect(await store.removeUser('bob')).toBe(false);
      expect(await store.getUser('bob')).toBeNull();
    });

    it('lists users in byte order, as the SQLite store does', async () => {
      for (const relayUser of ['bob', 'Zed', 'amy', 'Amy', '_x'])
        await store.saveUser({ relayUser, crosstradeKey: `key-${relayUser}`, webhookUrl: 'https://x.test' });
      expect((await store.listUsers()).map((u) => u.relayUser)).toEqual(['Amy', 'Zed', '_x', 'amy', 'bob']);
    });

    it('gives two users with the same CrossTrade key one account group: they see one key', async () => {
      await store.saveUser({ relayUser: 'alice', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/a' });
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      await store.saveUser({ relayUser: 'carol', crosstradeKey: 'key-of-carol', webhookUrl: 'https://x.test/c' });
      const [alice, bob, carol] = await store.listUsers();
      expect(alice?.accountGroup).toBe(bob?.accountGroup);
      expect(carol?.accountGroup).not.toBe(bob?.accountGroup);
      const aliceTrend: Strategy = { relayUser: 'alice', relayId: 'trend' };
      await store.arbitrate([{ ...key, accountGroup: alice!.accountGroup }], aliceTrend, writing([write({ owner: owner(aliceTrend), doubt: null })]), null);
      expect((await viewOf(store, { ...key, accountGroup: bob!.accountGroup, account: 'SIM101' }, B)).record.owner).toMatchObject(aliceTrend);
      expect((await viewOf(store, { ...key, accountGroup: carol!.accountGroup }, B)).record).toEqual({ owner: null, doubt: null });
      expect(await store.listPositions('alice')).toHaveLength(1);
      expect(await store.listPositions('bob')).toEqual([]);
      expect(await store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' })).toBe(true);
      expect(await store.listPositions()).toEqual([]);
    });

    it('moves a user’s positions and strategy marks to its new account group when its key changes', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      await store.saveUser({ relayUser: 'alice', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/a' });
      const nq = { ...key, instrumentKey: 'NQ' };
      const aliceTrend: Strategy = { relayUser: 'alice', relayId: 'trend' };
      await store.arbitrate([key], A, writing([write(record(A, 'working-order'), [mark(B, true)])]), null);
      await store.arbitrate([nq], aliceTrend, writing([write({ owner: owner(aliceTrend), doubt: null })]), null);

      expect(await store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-of-bob-NEW', webhookUrl: 'https://x.test/b' })).toBe('updated');
      const moved = { ...key, accountGroup: accountGroupOf('key-of-bob-NEW') };
      expect((await viewOf(store, moved)).record).toEqual(record(A, 'working-order'));
      expect((await viewOf(store, moved, B)).sender.holdsNothing).toBe(true);
      expect((await viewOf(store, key)).record).toEqual({ owner: null, doubt: null });
      expect((await viewOf(store, key, B)).sender.holdsNothing).toBe(false);
      expect((await viewOf(store, nq, aliceTrend)).record.owner).toMatchObject(aliceTrend);
      expect((await store.listPositions()).map((p) => [p.relayUser, p.instrumentKey, p.doubt])).toEqual([
        ['alice', 'NQ', null],
        ['bob', 'ES', 'working-order'],
      ]);
    });

    it('keeps a record already in the new group (in doubt), and an order in flight becomes of unknown outcome when it moves', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const newGroup = accountGroupOf('key-of-bob-NEW');
      const amy: Strategy = { relayUser: 'amy', relayId: 'X' };
      await store.arbitrate([key, { ...key, instrumentKey: 'NQ' }], A, writing([write(record(A, 'in-flight')), write(record(A))]), null);
      await store.arbitrate([{ ...key, accountGroup: newGroup, instrumentKey: 'NQ' }], amy, writing([write({ owner: owner(amy), doubt: null })]), null);
      clock = T0 + 50;
      await store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-of-bob-NEW', webhookUrl: 'https://x.test/b' });
      const es = await viewOf(store, { ...key, accountGroup: newGroup });
      expect(es.record).toEqual({ owner: owner(A), doubt: { kind: 'unknown-outcome', since: T0 + 50 } });
      const nq = await viewOf(store, { ...key, accountGroup: newGroup, instrumentKey: 'NQ' });
      expect(nq.record).toEqual({ owner: owner(amy), doubt: { kind: 'changed', since: T0 + 50 } });
      expect(nq.sender.holdsNothing).toBe(true);
    });

    it('releases what a user owned when it switches between paper and live (nothing moves)', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      await store.arbitrate([key], A, writing([write(record(A))]), null);
      clock = T0 + 10;
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b', paper: true });
      expect(await store.getUser('bob')).toMatchObject({ paper: true, accountGroup: accountGroupOf(BOB_KEY, true) });
      expect(await store.listPositions()).toEqual([]);
      expect((await viewOf(store, key)).record).toEqual({ owner: null, doubt: { kind: 'changed', since: T0 + 10 } });
      expect((await viewOf(store, { ...key, accountGroup: accountGroupOf(BOB_KEY, true) })).record).toEqual({ owner: null, doubt: null });
    });

    it('releases a user’s positions into doubt (its log stays) and its strategies hold nothing there', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const nq = { ...key, instrumentKey: 'NQ' };
      const sent = await store.arbitrate(
        [key, nq],
        A,
        writing([write(record(A)), write(record(A, 'in-flight'))], { log: log({ decision: 'forwarded' }) }),
        null,
      );
      clock = T0 + 100;
      expect(await store.removeUser('bob')).toBe(true);
      expect(await store.listPositions()).toEqual([]);
      const released = { owner: null, doubt: { kind: 'changed', since: T0 + 100 } };
      const { views } = await look(store, [key, nq]);
      expect(views).toEqual([
        { record: released, version: expect.any(Number), sender: { holdsNothing: true, lastFingerprint: null } },
        { record: released, version: expect.any(Number), sender: { holdsNothing: true, lastFingerprint: null } },
      ]);
      expect(views.map((v) => v.version)).not.toContain(sent.versions[0]);
      expect(await store.listLogs({ limit: 5 })).toHaveLength(1);
    });
  });

  describe('arbitrate and arbitrateAs', () => {
    it('shows an unwritten key as empty, writes a record with a fresh version and matches accounts case-insensitively', async () => {
      const result = await store.arbitrate(
        [key],
        A,
        (views, earlier) => {
          expect(views).toEqual([{ record: { owner: null, doubt: null }, version: null, sender: { holdsNothing: false, lastFingerprint: null } }]);
          expect(earlier).toBeNull();
          return { value: 'x', writes: [write(record(A, 'in-flight'))], seen: false, log: log() };
        },
        null,
      );
      expect(result.value).toBe('x');
      expect(result.logId).toBeTypeOf('number');
      const again = await viewOf(store, { ...key, account: 'SIM101' });
      expect(again).toMatchObject({ record: record(A, 'in-flight'), version: result.versions[0] });
      expect(await store.listPositions('bob')).toMatchObject([
        { relayId: 'A', account: 'Sim101', instrument: 'ES 03-26', instrumentKey: 'ES', doubt: 'in-flight' },
      ]);
    });

    it('answers each key’s version: unchanged when nothing was written, new on every write, null once a record is emptied', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const first = await store.arbitrate([key, other], A, writing([write(record(A)), null]), null);
      expect(first.versions[1]).toBeNull();
      const kept = await store.arbitrate([key, other], A, writing([write(null, [mark(B, true)]), null]), null);
      expect(kept.versions).toEqual([first.versions[0], null]);
      const rewritten = await store.arbitrate([key], A, writing([write(record(A))]), null);
      expect(rewritten.versions[0]).not.toBe(first.versions[0]);
      const emptied = await store.arbitrate([key], A, writing([write({ owner: null, doubt: null })]), null);
      expect(emptied).toMatchObject({ versions: [null], logId: null });
      expect((await viewOf(store)).record).toEqual({ owner: null, doubt: null });
    });

    it('keeps the contracts the owner’s orders add up to, a working exit, and a record in doubt without an owner', async () => {
      const keys: PositionKey[] = ['ES', 'NQ', 'RTY'].map((instrumentKey) => ({ ...key, instrumentKey }));
      const { quantity: _unsaid, ...unsaid } = owner(A);
      await store.arbitrate(
        keys,
        A,
        writing([
          write({ owner: owner(A, 'long', 2.5), doubt: { kind: 'working-exit', since: T0 + 5 } }),
          write({ owner: owner(A, 'short', null), doubt: null }),
          write({ owner: unsaid, doubt: null }),
        ]),
        null,
      );
      expect((await look(store, keys)).views.map((v) => v.record)).toEqual([
        { owner: owner(A, 'long', 2.5), doubt: { kind: 'working-exit', since: T0 + 5 } },
        { owner: owner(A, 'short', null), doubt: null },
        { owner: owner(A, 'long', null), doubt: null },
      ]);
      const nobody = await store.arbitrate([{ ...key, instrumentKey: 'CL' }], A, writing([write(record(null, 'unknown-outcome'))]), null);
      expect(await viewOf(store, { ...key, instrumentKey: 'CL' })).toMatchObject({ record: record(null, 'unknown-outcome'), version: nobody.versions[0] });
      expect((await store.listPositions()).map((p) => [p.instrumentKey, p.direction, p.quantity, p.doubt])).toEqual([
        ['ES', 'long', 2.5, 'working-exit'],
        ['NQ', 'short', null, null],
        ['RTY', 'long', null, null],
      ]);
    });

    it('applies marks on each key and shows each strategy its own, with its last fingerprint', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      await store.arbitrate([key, other], A, writing([write(null, [mark(B, true)]), write(null, [mark(B, true)])]), null);
      expect((await look(store, [{ ...key, account: 'SIM101' }, other], B)).views.map((v) => v.sender.holdsNothing)).toEqual([true, true]);
      expect((await viewOf(store, key, A)).sender.holdsNothing).toBe(false);
      await store.arbitrate([key], B, writing([write(null, [mark(B, false)])]), null);
      expect((await look(store, [key, other], B)).views.map((v) => v.sender.holdsNothing)).toEqual([false, true]);

      await store.arbitrate([key, other], A, writing([write(null, [mark(A, true)]), null], { seen: true }), identity('fp-1'));
      await store.arbitrate([key], A, writing([null], { seen: true }), null); // `seen` without an identity records nothing
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('fp-3'));
      await store.arbitrate([other], A, writing([write(null, [mark(A, true)])]), null);
      expect((await look(store, [key, other], A)).views.map((v) => v.sender)).toEqual([
        { holdsNothing: true, lastFingerprint: 'fp-3' },
        { holdsNothing: true, lastFingerprint: 'fp-1' },
      ]);
    });

    it('finds an earlier copy of a fingerprint seen inside its window, and only one that was seen', async () => {
      const earliers: unknown[] = [];
      const run = (seen: boolean, id = identity('same', 30_000)) =>
        store.arbitrate(
          [key],
          A,
          (_views, earlier) => {
            earliers.push(earlier);
            return { value: null, writes: [null], seen, log: null };
          },
          id,
        );
      await run(false);
      await run(true);
      clock = T0 + 30_000;
      await run(false); // exactly at the window's edge: still inside
      clock = T0 + 30_001;
      await run(false);
      await run(false, identity('same', 60_000));
      expect(earliers).toEqual([null, null, { at: T0, refused: false }, null, { at: T0, refused: false }]);
      expect((await look(store, [key], A, identity('other'))).earlier).toBeNull();
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

    it('writes nothing, not even queued outcomes it took, when the decision throws; they are written later', async () => {
      const first = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({
        keys: [{ key, version: first.versions[0]!, write: write(record(A)) }],
        log: { id: first.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 3 } },
      });
      const boom = new Error('boom');
      await expect(
        store.arbitrate(
          [key],
          A,
          (views) => {
            expect(views[0]?.record).toEqual(record(A)); // the outcome was applied before deciding
            throw boom;
          },
          null,
        ),
      ).rejects.toBe(boom);
      await store.flush();
      expect(await store.listPositions()).toMatchObject([{ relayId: 'A', doubt: null }]);
      expect(await store.listLogs({ limit: 5 })).toMatchObject([{ id: first.logId, decision: 'forwarded', upstreamStatus: 200, latencyMs: 3 }]);
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

  describe('settle and recordRefusal', () => {
    const outcome = { decision: 'forwarded' as const, reason: 'delivered', upstreamStatus: 200, latencyMs: 12.5 };

    it('writes the outcome’s record, its marks and the log outcome when the key is as the alert left it', async () => {
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'), [mark(B, true)])], { log: log() }), null);
      clock = T0 + 100;
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A), [mark(A, false)]) }], log: { id: sent.logId!, outcome } });
      await store.flush();
      const view = await viewOf(store);
      expect(view.record).toEqual(record(A));
      expect(view.version).not.toBe(sent.versions[0]);
      expect(await store.listPositions()).toMatchObject([{ doubt: null, updatedAt: T0 + 100 }]);
      expect((await viewOf(store, key, B)).sender.holdsNothing).toBe(true);
      expect(await store.listLogs({ limit: 5 })).toMatchObject([
        { id: sent.logId, decision: 'forwarded', reason: 'delivered', upstreamStatus: 200, latencyMs: 12.5 },
      ]);
    });

    it('leaves a record written since untouched (marks and log outcome still land), and settles a key without a row only while it has none', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      const since = await store.arbitrate([key, other], B, writing([write(record(B, 'in-flight')), write(record(B))]), null);
      store.settle({
        keys: [
          { key, version: sent.versions[0]!, write: write({ owner: null, doubt: null }, [mark(A, true)]) },
          { key: other, version: null, write: write(record(A)) },
          { key: { ...key, account: 'Sim103' }, version: null, write: write(record(A, 'changed')) },
        ],
        log: { id: sent.logId!, outcome: { ...outcome, decision: 'failed', reason: 'forward-failed' } },
      });
      await store.flush();
      expect(await viewOf(store)).toMatchObject({ record: record(B, 'in-flight'), version: since.versions[0], sender: { holdsNothing: true } });
      expect((await viewOf(store, other)).record).toEqual(record(B));
      expect((await viewOf(store, { ...key, account: 'Sim103' })).record).toEqual(record(A, 'changed'));
      expect(await store.listLogs({ limit: 5 })).toMatchObject([{ id: sent.logId, decision: 'failed', reason: 'forward-failed' }]);
    });

    it('is applied by the next arbitrate before it decides, even before the background write ran', async () => {
      const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: { id: sent.logId!, outcome } });
      expect((await viewOf(store)).record).toEqual(record(A));
      expect((await store.listLogs({ limit: 1 }))[0]?.decision).toBe('forwarded');
    });

    it('records a refused alert’s log row, marks, record and fingerprint (as refused) once the queue runs', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))]), null);
      store.recordRefusal({
        keys: [key, other],
        marks: [mark(A, true)],
        record: (rec) => ({ ...rec, doubt: { kind: 'unknown-outcome', since: T0 + 1 } }),
        identity: identity('fp-r'),
        log: log({ decision: 'blocked', reason: 'database busy: nothing was decided or forwarded' }),
      });
      await store.flush();
      expect(await store.listLogs({ limit: 5 })).toMatchObject([{ decision: 'blocked', reason: 'database busy: nothing was decided or forwarded' }]);
      const { views, earlier } = await look(store, [key, other], A, identity('fp-r'));
      expect(views.map((v) => [v.record, v.sender])).toEqual([
        [
          { owner: owner(A), doubt: { kind: 'unknown-outcome', since: T0 + 1 } },
          { holdsNothing: true, lastFingerprint: 'fp-r' },
        ],
        // a key without a record keeps none
        [
          { owner: null, doubt: null },
          { holdsNothing: true, lastFingerprint: 'fp-r' },
        ],
      ]);
      expect(earlier).toEqual({ at: T0, refused: true });
    });

    it('never lets a refused copy hide a decided one, and a decided copy after a refused one is no longer refused', async () => {
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('decided'));
      store.recordRefusal({ keys: [key], marks: [], record: null, identity: identity('decided'), log: log({ decision: 'blocked', time: T0 + 5 }) });
      store.recordRefusal({ keys: [key], marks: [], record: null, identity: identity('fp'), log: log({ decision: 'blocked' }) });
      store.recordRefusal({ keys: [], marks: [], record: null, identity: null, log: log({ decision: 'rejected' }) });
      await store.flush();
      expect((await look(store, [key], A, identity('decided'))).earlier).toEqual({ at: T0, refused: false });
      clock = T0 + 5000;
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('fp'));
      expect((await look(store, [key], A, identity('fp'))).earlier).toEqual({ at: T0 + 5000, refused: false });
      expect(await store.countLogs({})).toEqual({ blocked: 2, rejected: 1 });
    });

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

  describe('by hand and after a crash', () => {
    it('clears one position by a user’s key: the key stays in doubt (a new version) and the owner holds nothing there', async () => {
      await store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const sent = await store.arbitrate([key], A, writing([write(record(A))]), null);
      clock = T0 + 100;
      expect(await store.clearPosition({ relayUser: 'bob', account: 'sim101', instrumentKey: 'ES' })).toBe(true);
      const cleared = await viewOf(store);
      expect(cleared).toEqual({
        record: { owner: null, doubt: { kind: 'changed', since: T0 + 100 } },
        version: expect.any(Number),
        sender: { holdsNothing: true, lastFingerprint: null },
      });
      expect(cleared.version).not.toBe(sent.versions[0]);
      expect(await store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' })).toBe(false);
      expect(await store.clearPosition({ relayUser: 'nobody', account: 'Sim101', instrumentKey: 'ES' })).toBe(false);
      expect(await store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'RTY' })).toBe(false);
      expect(await viewOf(store, { ...key, instrumentKey: 'RTY' })).toMatchObject({ record: { owner: null, doubt: null }, version: null });
    });

    it('closes forwards a stopped instance left: pending rows become unknown, in-flight records of unknown outcome, versions kept', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const nq: PositionKey = { ...key, instrumentKey: 'NQ' };
      // An instance whose heartbeat stopped (it beats once a minute here, and its last beat is made old).
      const stopped = await open({ heartbeatMs: 60_000 });
      try {
        const sent = await stopped.arbitrate(
          [key, other, nq],
          A,
          writing([write(record(A, 'in-flight')), write(record(null, 'in-flight')), write(record(A, 'working-order'))]),
          null,
        );
        await stopped.appendLog(log({ decision: 'pending' }));
        await stopped.appendLog(log({ decision: 'forwarded' }));
        await stopped.appendLog(log({ decision: 'pending' }));
        // Its own forwards are its own: a live instance's are never closed.
        expect(await store.closeInterruptedForwards('interrupted')).toBe(0);
        await raw(db.url, 'UPDATE relay_instances SET last_seen = last_seen - 60000 WHERE id = $1', [stopped.instance.id]);
        expect(await store.closeInterruptedForwards('interrupted: the relay stopped before CrossTrade answered')).toBe(2);
        expect((await store.listLogs({ limit: 10 })).map((l) => [l.decision, l.reason])).toEqual([
          ['unknown', 'interrupted: the relay stopped before CrossTrade answered'],
          ['forwarded', 'entry: nobody owns the position'],
          ['unknown', 'interrupted: the relay stopped before CrossTrade answered'],
        ]);
        const { views } = await look(store, [key, other, nq]);
        expect(views.map((v) => v.record)).toEqual([record(A, 'unknown-outcome'), record(null, 'unknown-outcome'), record(A, 'working-order')]);
        expect(views.map((v) => v.version)).toEqual(sent.versions);
        expect((await store.listInstances()).map((i) => i.id)).toEqual([store.instance.id]);
        expect(await store.closeInterruptedForwards('again')).toBe(0);
        // An instance only cut off for a while: the same order's outcome may still land
        stopped.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: null });
        await stopped.flush();
        expect((await viewOf(store)).record).toEqual(record(A));
      } finally {
        await stopped.close();
      }
    });
  });

  describe('log, settings, paper books, pruning', () => {
    const row = (minute: number, overrides: Partial<SignalLogInput>) => log({ time: T0 + minute * 60_000, decision: 'forwarded', ...overrides });

    it('appends log rows, lists them newest first, filtered, and counts them per decision', async () => {
      const id = await store.appendLog(row(0, {}));
      await store.appendLog(row(1, { decision: 'blocked', relayId: 'B' }));
      await store.appendLog(row(2, { decision: 'rejected', relayId: null, signalType: null }));
      await store.appendLog(row(3, { decision: 'blocked', relayUser: 'amy' }));
      await store.appendLog(row(4, { decision: 'failed', relayId: 'B', alert: 'a\0b' }));
      const minutes = async (query: Parameters<Store['listLogs']>[0]) => (await store.listLogs(query)).map((r) => (r.time - T0) / 60_000);
      expect(await minutes({ limit: 10 })).toEqual([4, 3, 2, 1, 0]);
      expect(await minutes({ relayUser: 'bob', limit: 10 })).toEqual([4, 2, 1, 0]);
      expect(await minutes({ relayId: 'B', limit: 10 })).toEqual([4, 1]);
      expect(await minutes({ decisions: ['blocked', 'rejected'], limit: 10 })).toEqual([3, 2, 1]);
      expect(await minutes({ since: T0 + 2 * 60_000, limit: 10 })).toEqual([4, 3, 2]);
      expect(await minutes({ relayUser: 'bob', decisions: ['blocked'], since: T0 + 60_000, limit: 10 })).toEqual([1]);
      expect(await minutes({ decisions: [], limit: 10 })).toEqual([]);
      expect(await minutes({ relayId: 'B', limit: 1 })).toEqual([4]);
      expect((await store.listLogs({ relayUser: 'bob', limit: 10 })).at(-1)).toEqual({ ...row(0, {}), id });
      // PostgreSQL text cannot hold NUL: it is kept as U+FFFD rather than refusing the row.
      expect((await store.listLogs({ limit: 1 }))[0]?.alert).toBe('a\uFFFDb');
      expect(await store.countLogs({})).toEqual({ forwarded: 1, blocked: 2, rejected: 1, failed: 1 });
      expect(await store.countLogs({ relayUser: 'bob', since: T0 + 60_000 })).toEqual({ blocked: 1, rejected: 1, failed: 1 });
      expect(await store.countLogs({ relayUser: 'nobody' })).toEqual({});
    });

    it('stores settings and paper books, seen at once by a second instance', async () => {
      const second = await open();
      try {
        expect(await store.getSetting('admin_token')).toBeNull();
        await store.setSetting('admin_token', 'one');
        await second.setSetting('admin_token', 'two');
        expect(await store.getSetting('admin_token')).toBe('two');
        expect(await store.getPaperBook('paper-g')).toBeNull();
        await store.savePaperBook('paper-g', '{"cash":1}');
        await store.savePaperBook('paper-g', '{"cash":2}');
        expect(await second.getPaperBook('paper-g')).toBe('{"cash":2}');
        await second.saveUser({ relayUser: 'amy', crosstradeKey: 'key-amy-1', webhookUrl: 'https://x.test/1' });
        await second.arbitrate([key], A, writing([write(record(A))]), null);
        expect((await store.getUser('amy'))?.relayUser).toBe('amy');
        expect((await viewOf(store)).record).toEqual(record(A));
      } finally {
        await second.close();
      }
    });

    it('prunes signal-log rows past the retention and old fingerprints, which are then no longer found', async () => {
      await store.appendLog(log({ time: 1000, decision: 'blocked' }));
      await store.appendLog(log({ time: 5000, decision: 'blocked' }));
      await store.arbitrate([key], A, writing([null], { seen: true, log: log({ time: 6000, decision: 'blocked' }) }), identity('f', 60_000));
      clock = T0 + 10;
      await store.arbitrate([key], A, writing([null], { seen: true }), identity('g', 60_000));
      expect(await store.prune({ logsBefore: 2000, fingerprintsBefore: T0 + 1 })).toEqual({ logs: 1, fingerprints: 1 });
      expect((await store.listLogs({ limit: 10 })).map((l) => l.time)).toEqual([6000, 5000]);
      expect((await look(store, [key], A, identity('f', 60_000))).earlier).toBeNull();
      expect((await look(store, [key], A, identity('g', 60_000))).earlier).toEqual({ at: T0 + 10, refused: false });
      expect(await raw(db.url, 'SELECT count(*)::int AS n FROM alert_fingerprints')).toEqual([{ n: 1 }]);
    });
  });
});

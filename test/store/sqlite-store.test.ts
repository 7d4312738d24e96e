import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DoubtKind, KeyRecord, Ownership, Strategy, StrategyMark } from '../../src/engine/types.js';
import { accountGroupOf } from '../../src/store/account-group.js';
import { createSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/create-sqlite-store.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import {
  type AlertIdentity,
  type ArbitrationDecision,
  isStoreBusyError,
  type KeyView,
  type KeyWrite,
  type PositionKey,
  type SignalLogInput,
  type Store,
  StoreBusyError,
} from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const T0 = 1_800_000_000_000;
const BOB_KEY = 'key-of-bob-1';
const GROUP = accountGroupOf(BOB_KEY);
const key: PositionKey = { accountGroup: GROUP, account: 'Sim101', instrumentKey: 'ES' };
const A: Strategy = { relayUser: 'bob', relayId: 'A' };
const B: Strategy = { relayUser: 'bob', relayId: 'B' };

const log = (extra: Partial<SignalLogInput> = {}): SignalLogInput => ({
  time: T0,
  relayUser: 'bob',
  relayId: 'A',
  account: 'Sim101',
  instrument: 'ES 03-26',
  signalType: 'entry',
  decision: 'pending',
  reason: 'entry: nobody owns the position',
  apiCheck: null,
  upstreamStatus: null,
  latencyMs: null,
  alert: 'command=PLACE;',
  ...extra,
});
const owner = (who: Strategy = A, direction: 'long' | 'short' = 'long', quantity: number | null = 1): Ownership => ({
  ...who,
  direction,
  quantity,
  openedAt: 1,
  claimedAt: 2,
  holdUntil: 3,
});
const record = (who: Strategy | null, doubt: DoubtKind | null = null): KeyRecord => ({
  owner: who === null ? null : owner(who),
  doubt: doubt === null ? null : { kind: doubt, since: T0 },
});
const write = (rec: KeyRecord | null, marks: StrategyMark[] = []): KeyWrite => ({ record: rec, marks, instrument: 'ES 03-26' });
const mark = (who: Strategy, holdsNothing: boolean): StrategyMark => ({ ...who, holdsNothing });
const identity = (fingerprint: string, windowMs = 30_000, who: Strategy = A): AlertIdentity => ({ fingerprint, ...who, windowMs });

/** A decision that writes these (one per key), marks the alert seen or not, and logs or not. */
function writing(writes: (KeyWrite | null)[], options: { seen?: boolean; log?: SignalLogInput | null } = {}): ArbitrationDecision<null> {
  return () => ({ value: null, writes, seen: options.seen ?? false, log: options.log ?? null });
}

/** What `decide` sees of the keys for this sender, without writing anything. */
function look(store: Store, keys: PositionKey[], sender: Strategy = A, id: AlertIdentity | null = null) {
  return store.arbitrate(keys, sender, (views, earlier) => ({ value: { views, earlier }, writes: keys.map(() => null), seen: false, log: null }), id).value;
}

const viewOf = (store: Store, k: PositionKey = key, sender: Strategy = A): KeyView => look(store, [k], sender).views[0]!;

/** Lets the store's queued writes (settle, recordRefusal) run: they are flushed on the next turn. */
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('SQLite store', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let clock: number;
  const open = (options: SqliteStoreOptions = {}) => createSqliteStore(temp.file('relay.db'), { now: () => clock, ...options });
  beforeEach(() => {
    temp = makeTempDir();
    clock = T0;
    store = open();
  });
  afterEach(() => {
    store.close();
    temp.cleanup();
  });

  it('creates the database with its schema version, in WAL mode, readable by its owner only', () => {
    const db = new Database(temp.file('relay.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(MIGRATIONS).toHaveLength(8);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    if (process.platform !== 'win32') expect(fs.statSync(temp.file('relay.db')).mode & 0o777).toBe(0o600);
  });

  it('reopens an existing database without migrating it again', () => {
    store.saveUser({ relayUser: 'bob', crosstradeKey: 'k'.repeat(10), webhookUrl: 'https://x.test/v1/send/a/b' });
    store.close();
    store = open();
    expect(store.getUser('bob')?.crosstradeKey).toBe('k'.repeat(10));
  });

  it('refuses a database written by a newer relay', () => {
    store.close();
    const db = new Database(temp.file('relay.db'));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => open()).toThrow(`database schema version ${MIGRATIONS.length + 1} is newer than this relay understands`);
  });

  describe('users and account groups', () => {
    it('creates, updates, lists and removes users, each with the account group of its key', () => {
      expect(store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-one-1', webhookUrl: 'https://x.test/1' })).toBe('created');
      expect(store.getUser('bob')).toMatchObject({ relaySecret: null, accountGroup: accountGroupOf('key-one-1') });
      expect(store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-two-2', webhookUrl: 'https://x.test/2', relaySecret: 'sha256:x' })).toBe('updated');
      expect(store.listUsers().map((u) => [u.relayUser, u.crosstradeKey, u.webhookUrl, u.relaySecret, u.accountGroup])).toEqual([
        ['bob', 'key-two-2', 'https://x.test/2', 'sha256:x', accountGroupOf('key-two-2')],
      ]);
      expect(store.removeUser('bob')).toBe(true);
      expect(store.removeUser('bob')).toBe(false);
      expect(store.getUser('bob')).toBeNull();
    });

    it('derives the account group one way from the key: stable, distinct per key, never the key itself', () => {
      expect(accountGroupOf(BOB_KEY)).toBe(GROUP);
      expect(accountGroupOf(BOB_KEY)).toMatch(/^[0-9a-f]{32}$/);
      expect(accountGroupOf('key-of-bob-2')).not.toBe(GROUP);
      expect(GROUP).not.toContain(BOB_KEY);
    });

    it('gives two users with the same CrossTrade key one account group: they see one key', () => {
      store.saveUser({ relayUser: 'alice', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/a' });
      store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      store.saveUser({ relayUser: 'carol', crosstradeKey: 'key-of-carol', webhookUrl: 'https://x.test/c' });
      const [alice, bob, carol] = store.listUsers();
      expect(alice?.accountGroup).toBe(bob?.accountGroup);
      expect(carol?.accountGroup).not.toBe(bob?.accountGroup);

      const aliceKey = { ...key, accountGroup: alice!.accountGroup };
      const aliceTrend: Strategy = { relayUser: 'alice', relayId: 'trend' };
      store.arbitrate([aliceKey], aliceTrend, writing([write({ owner: owner(aliceTrend), doubt: null })]), null);
      // bob's alert on the same account and product reads alice's record: one key.
      expect(viewOf(store, { ...key, accountGroup: bob!.accountGroup, account: 'SIM101' }, B).record.owner).toMatchObject(aliceTrend);
      expect(viewOf(store, { ...key, accountGroup: carol!.accountGroup }, B).record).toEqual({ owner: null, doubt: null });
      expect(store.listPositions('alice')).toHaveLength(1);
      expect(store.listPositions('bob')).toEqual([]);
      // and bob, naming the key through his CrossTrade account, can release it by hand
      expect(store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' })).toBe(true);
      expect(store.listPositions()).toEqual([]);
    });

    it('moves a user’s positions and strategy marks to its new account group when its key changes', () => {
      store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      store.saveUser({ relayUser: 'alice', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/a' });
      const nq = { ...key, instrumentKey: 'NQ' };
      const aliceTrend: Strategy = { relayUser: 'alice', relayId: 'trend' };
      store.arbitrate([key], A, writing([write(record(A, 'working-order'), [mark(B, true)])]), null);
      store.arbitrate([nq], aliceTrend, writing([write({ owner: owner(aliceTrend), doubt: null })]), null);

      expect(store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-of-bob-NEW', webhookUrl: 'https://x.test/b' })).toBe('updated');
      const moved = { ...key, accountGroup: accountGroupOf('key-of-bob-NEW') };
      expect(viewOf(store, moved).record).toEqual(record(A, 'working-order'));
      expect(viewOf(store, moved, B).sender.holdsNothing).toBe(true);
      expect(viewOf(store, key).record).toEqual({ owner: null, doubt: null });
      expect(viewOf(store, key, B).sender.holdsNothing).toBe(false);
      // alice kept the old key: what she owns stays where it was
      expect(viewOf(store, nq, aliceTrend).record.owner).toMatchObject(aliceTrend);
      expect(store.listPositions().map((p) => [p.relayUser, p.instrumentKey, p.doubt])).toEqual([
        ['alice', 'NQ', null],
        ['bob', 'ES', 'working-order'],
      ]);
      expect(store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' })).toBe(true);
    });

    it('releases a user’s positions into doubt (its log stays) and its strategies hold nothing there', () => {
      store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const nq = { ...key, instrumentKey: 'NQ' };
      const sent = store.arbitrate([key, nq], A, writing([write(record(A)), write(record(A, 'in-flight'))], { log: log({ decision: 'forwarded' }) }), null);
      clock = T0 + 100;
      expect(store.removeUser('bob')).toBe(true);
      expect(store.listPositions()).toEqual([]);
      const released = { owner: null, doubt: { kind: 'changed', since: T0 + 100 } };
      const views = look(store, [key, nq]).views;
      expect(views).toEqual([
        { record: released, version: expect.any(Number), sender: { holdsNothing: true, lastFingerprint: null } },
        { record: released, version: expect.any(Number), sender: { holdsNothing: true, lastFingerprint: null } },
      ]);
      expect(views.map((v) => v.version)).not.toContain(sent.versions[0]);
      expect(views.map((v) => v.version)).not.toContain(sent.versions[1]);
      expect(store.listLogs({ limit: 5 })).toHaveLength(1);
    });
  });

  describe('sync (durability)', () => {
    it('power-cut (default): commits without an fsync each, and sync() fsyncs the WAL once for every caller waiting meanwhile', async () => {
      const calls: number[] = [];
      const real = fs.fdatasync;
      const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (error: Error | null) => void) => {
        calls.push(fd);
        setTimeout(() => real(fd, done), 20);
      }) as typeof fs.fdatasync);
      try {
        store.arbitrate([key], A, writing([write(record(A))]), null);
        const first = store.sync();
        // Committed while the first fsync runs: these need one that starts after them, shared.
        store.arbitrate([key], B, writing([write(record(B))]), null);
        const waiting = Array.from({ length: 10 }, () => store.sync());
        await Promise.all([first, ...waiting]);
        expect(calls).toHaveLength(2);
        await store.sync();
        expect(calls).toHaveLength(3);
      } finally {
        spy.mockRestore();
      }
    });

    it('rejects when the fsync fails, and the next sync tries again', async () => {
      const spy = vi.spyOn(fs, 'fdatasync').mockImplementationOnce(((_fd: number, done: (error: Error | null) => void) => {
        done(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
      }) as typeof fs.fdatasync);
      try {
        await expect(store.sync()).rejects.toThrow(/EIO/);
        await expect(store.sync()).resolves.toBeUndefined();
      } finally {
        spy.mockRestore();
      }
    });

    it.each([
      ['full', 0],
      ['crash', 0],
      ['power-cut', 1],
    ] as const)('%s: %i fsync(s) from sync()', async (durability, fsyncs) => {
      store.close();
      store = open({ durability });
      const spy = vi.spyOn(fs, 'fdatasync');
      try {
        store.arbitrate([key], A, writing([write(record(A))]), null);
        await store.sync();
        expect(spy).toHaveBeenCalledTimes(fsyncs);
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('arbitrateAs', () => {
    it("reads the user and lets the plan choose the keys in the decision's transaction; a null plan decides and logs nothing", () => {
      store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://app.crosstrade.io/v1/send/x/y' });
      store.arbitrate([key], A, writing([write(record(A))]), null);
      const result = store.arbitrateAs('bob', (user, listKeys) => {
        expect(user).toMatchObject({ relayUser: 'bob', accountGroup: GROUP });
        const keys = listKeys(user!.accountGroup);
        expect(keys).toEqual([key]);
        return { keys, sender: B, decide: writing([write(record(B))], { log: log({ relayId: 'B' }) }), identity: null };
      });
      expect(result?.logId).toBeTypeOf('number');
      expect(viewOf(store).record).toEqual(record(B));

      let seen: unknown = 'not called';
      expect(
        store.arbitrateAs('nobody', (user) => {
          seen = user;
          return null;
        }),
      ).toBeNull();
      expect(seen).toBeNull();
      expect(store.listLogs({ limit: 10 })).toHaveLength(1);
    });
  });

  describe('arbitrate', () => {
    it('shows an unwritten key as empty, writes a record with a fresh version and matches accounts case-insensitively', () => {
      const result = store.arbitrate(
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
      expect(result.versions[0]).toBeTypeOf('number');
      const again = viewOf(store, { ...key, account: 'SIM101' });
      expect(again.record).toEqual(record(A, 'in-flight'));
      expect(again.version).toBe(result.versions[0]);
      expect(store.listPositions('bob')).toMatchObject([{ relayId: 'A', account: 'Sim101', instrument: 'ES 03-26', instrumentKey: 'ES', doubt: 'in-flight' }]);
    });

    it('answers each key’s version: unchanged when nothing was written, new on every write, null once a record is emptied', () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const first = store.arbitrate([key, other], A, writing([write(record(A)), null]), null);
      expect(first.versions[1]).toBeNull();
      const kept = store.arbitrate([key, other], A, writing([write(null, [mark(B, true)]), null]), null);
      expect(kept.versions).toEqual([first.versions[0], null]);
      const rewritten = store.arbitrate([key], A, writing([write(record(A))]), null);
      expect(rewritten.versions[0]).not.toBe(first.versions[0]);
      const emptied = store.arbitrate([key], A, writing([write({ owner: null, doubt: null })]), null);
      expect(emptied.versions).toEqual([null]);
      expect(viewOf(store).record).toEqual({ owner: null, doubt: null });
      expect(emptied.logId).toBeNull();
    });

    it('keeps a record in doubt without an owner (not listed as a position)', () => {
      const result = store.arbitrate([key], A, writing([write(record(null, 'unknown-outcome'))]), null);
      expect(viewOf(store)).toMatchObject({ record: record(null, 'unknown-outcome'), version: result.versions[0] });
      expect(store.listPositions()).toEqual([]);
    });

    it('lists owned positions with their doubt, all or per owner', () => {
      const amy: Strategy = { relayUser: 'amy', relayId: 'X' };
      store.arbitrate([key], A, writing([write(record(A, 'unknown-outcome'))]), null);
      store.arbitrate([{ ...key, instrumentKey: 'NQ' }], A, writing([write(record(A))]), null);
      store.arbitrate([{ ...key, account: 'Apex-1' }], amy, writing([write({ owner: owner(amy, 'short'), doubt: { kind: 'changed', since: 5 } })]), null);
      expect(store.listPositions().map((p) => [p.relayUser, p.account, p.instrumentKey, p.direction, p.doubt])).toEqual([
        ['amy', 'Apex-1', 'ES', 'short', 'changed'],
        ['bob', 'Sim101', 'ES', 'long', 'unknown-outcome'],
        ['bob', 'Sim101', 'NQ', 'long', null],
      ]);
      expect(store.listPositions('amy')).toEqual([
        { ...owner(amy, 'short'), account: 'Apex-1', instrumentKey: 'ES', instrument: 'ES 03-26', doubt: 'changed', updatedAt: T0 },
      ]);
    });

    it('keeps the contracts the owner’s orders add up to: a number, unknown (null), or not said (read back as null)', () => {
      const keys: PositionKey[] = ['ES', 'NQ', 'RTY'].map((instrumentKey) => ({ ...key, instrumentKey }));
      const { quantity: _unsaid, ...unsaid } = owner(A);
      store.arbitrate(
        keys,
        A,
        writing([
          write({ owner: owner(A, 'long', 3), doubt: null }),
          write({ owner: owner(A, 'short', null), doubt: null }),
          write({ owner: unsaid, doubt: null }),
        ]),
        null,
      );
      expect(keys.map((k) => viewOf(store, k).record.owner?.quantity)).toEqual([3, null, null]);
      expect(store.listPositions('bob').map((p) => [p.instrumentKey, p.direction, p.quantity])).toEqual([
        ['ES', 'long', 3],
        ['NQ', 'short', null],
        ['RTY', 'long', null],
      ]);
      // A new write replaces it (an add, a partial exit), and an emptied record forgets it.
      store.arbitrate([keys[0]!], A, writing([write({ owner: owner(A, 'long', 2), doubt: { kind: 'changed', since: T0 } })]), null);
      expect(viewOf(store, keys[0]!).record).toEqual({ owner: owner(A, 'long', 2), doubt: { kind: 'changed', since: T0 } });
      store.arbitrate([keys[0]!], A, writing([write({ owner: null, doubt: { kind: 'closing', since: T0 } })]), null);
      expect(viewOf(store, keys[0]!).record).toEqual({ owner: null, doubt: { kind: 'closing', since: T0 } });
    });

    it('keeps a working LIMIT/STOP exit as doubt working-exit, with the position it works on', () => {
      store.arbitrate([key], A, writing([write({ owner: owner(A, 'long', 2), doubt: { kind: 'working-exit', since: T0 + 5 } })]), null);
      expect(viewOf(store, key).record).toEqual({ owner: owner(A, 'long', 2), doubt: { kind: 'working-exit', since: T0 + 5 } });
      expect(store.listPositions().map((p) => [p.relayId, p.quantity, p.doubt])).toEqual([['A', 2, 'working-exit']]);
    });

    it('applies marks on each key and shows each strategy its own', () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      store.arbitrate([key, other], A, writing([write(null, [mark(B, true)]), write(null, [mark(B, true)])]), null);
      expect(look(store, [{ ...key, account: 'SIM101' }, other], B).views.map((v) => v.sender.holdsNothing)).toEqual([true, true]);
      expect(viewOf(store, key, A).sender.holdsNothing).toBe(false);
      expect(viewOf(store, key, { relayUser: 'amy', relayId: 'B' }).sender.holdsNothing).toBe(false);
      store.arbitrate([key], B, writing([write(null, [mark(B, false)])]), null);
      expect(look(store, [key, other], B).views.map((v) => v.sender.holdsNothing)).toEqual([false, true]);
    });

    it('reads the sender’s holdsNothing and last fingerprint whether or not an identity is given', () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      store.arbitrate([key, other], A, writing([write(null, [mark(A, true)]), null], { seen: true }), identity('fp-1'));
      for (const id of [null, identity('fp-2')]) {
        expect(look(store, [key, other], A, id).views.map((v) => v.sender)).toEqual([
          { holdsNothing: true, lastFingerprint: 'fp-1' },
          { holdsNothing: false, lastFingerprint: 'fp-1' },
        ]);
      }
      // setting the last fingerprint leaves holds-nothing as it was, and a mark leaves the fingerprint
      store.arbitrate([key], A, writing([null], { seen: true }), identity('fp-3'));
      store.arbitrate([other], A, writing([write(null, [mark(A, true)])]), null);
      expect(look(store, [key, other], A).views.map((v) => v.sender)).toEqual([
        { holdsNothing: true, lastFingerprint: 'fp-3' },
        { holdsNothing: true, lastFingerprint: 'fp-1' },
      ]);
      expect(viewOf(store, key, B).sender).toEqual({ holdsNothing: false, lastFingerprint: null });
    });

    it('finds an earlier copy of a fingerprint seen inside its window, and only one that was seen', () => {
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
      run(false); // not seen: not remembered
      run(true);
      clock = T0 + 30_000;
      run(false); // exactly at the window's edge: still inside
      clock = T0 + 30_001;
      run(false);
      run(false, identity('same', 60_000)); // a wider window reaches it
      expect(earliers).toEqual([null, null, { at: T0, refused: false }, null, { at: T0, refused: false }]);
      expect(look(store, [key], A, identity('other')).earlier).toBeNull();
    });

    it('records a seen copy’s time afresh: the window runs from the latest seen copy', () => {
      store.arbitrate([key], A, writing([null], { seen: true }), identity('fp'));
      clock = T0 + 20_000;
      store.arbitrate([key], A, writing([null], { seen: true }), identity('fp'));
      clock = T0 + 40_000;
      expect(look(store, [key], A, identity('fp')).earlier).toEqual({ at: T0 + 20_000, refused: false });
    });

    it('ignores `seen` without an identity', () => {
      store.arbitrate([key], A, writing([null], { seen: true }), null);
      expect(viewOf(store).sender.lastFingerprint).toBeNull();
    });

    it('writes nothing, not even queued writes it drained, when the decision throws; they are applied later', async () => {
      const first = store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({
        keys: [{ key, version: first.versions[0]!, write: write(record(A)) }],
        log: { id: first.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 3 } },
      });
      expect(() =>
        store.arbitrate(
          [key],
          A,
          (views) => {
            expect(views[0]?.record).toEqual(record(A)); // the settlement was applied before deciding
            throw new Error('boom');
          },
          null,
        ),
      ).toThrow('boom');
      // read past the store: its listings apply the queue first
      const db = new Database(temp.file('relay.db'), { readonly: true });
      try {
        expect(db.prepare('SELECT owner_id, doubt FROM key_records').all()).toEqual([{ owner_id: 'A', doubt: 'in-flight' }]);
        expect(db.prepare('SELECT decision FROM signal_log').all()).toEqual([{ decision: 'pending' }]);
      } finally {
        db.close();
      }
      await nextTurn();
      expect(store.listPositions()).toMatchObject([{ relayId: 'A', doubt: null }]);
      expect(store.listLogs({ limit: 5 })).toMatchObject([{ id: first.logId, decision: 'forwarded', upstreamStatus: 200, latencyMs: 3 }]);
    });
  });

  describe('settle', () => {
    const outcome = { decision: 'forwarded' as const, reason: 'delivered', upstreamStatus: 200, latencyMs: 12.5 };

    it('writes the outcome’s record, its marks and the log outcome when the key is as the alert left it', async () => {
      const sent = store.arbitrate([key], A, writing([write(record(A, 'in-flight'), [mark(B, true)])], { log: log() }), null);
      clock = T0 + 100;
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A), [mark(A, false)]) }], log: { id: sent.logId!, outcome } });
      await nextTurn();
      const view = viewOf(store);
      expect(view.record).toEqual(record(A));
      expect(view.version).not.toBe(sent.versions[0]);
      expect(store.listPositions()).toMatchObject([{ doubt: null, updatedAt: T0 + 100 }]);
      expect(viewOf(store, key, B).sender.holdsNothing).toBe(true);
      expect(store.listLogs({ limit: 5 })).toMatchObject([
        { id: sent.logId, decision: 'forwarded', reason: 'delivered', upstreamStatus: 200, latencyMs: 12.5 },
      ]);
    });

    it('leaves a record written since untouched, but still applies the marks and the log outcome', async () => {
      const sent = store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      const since = store.arbitrate([key], B, writing([write(record(B, 'in-flight'))]), null);
      store.settle({
        keys: [{ key, version: sent.versions[0]!, write: write({ owner: null, doubt: null }, [mark(A, true)]) }],
        log: { id: sent.logId!, outcome: { ...outcome, decision: 'failed', reason: 'forward-failed' } },
      });
      await nextTurn();
      expect(viewOf(store)).toMatchObject({ record: record(B, 'in-flight'), version: since.versions[0], sender: { holdsNothing: true } });
      expect(store.listLogs({ limit: 5 })).toMatchObject([{ id: sent.logId, decision: 'failed', reason: 'forward-failed' }]);
    });

    it('does not bring back a record cleared since', async () => {
      store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const sent = store.arbitrate([key], A, writing([write(record(A, 'in-flight'))]), null);
      clock = T0 + 100;
      expect(store.clearPosition({ relayUser: 'bob', account: 'sim101', instrumentKey: 'ES' })).toBe(true);
      const cleared = viewOf(store);
      expect(cleared.version).not.toBe(sent.versions[0]);
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: null });
      await nextTurn();
      expect(viewOf(store)).toMatchObject({ record: { owner: null, doubt: { kind: 'changed', since: T0 + 100 } }, version: cleared.version });
    });

    it('settles a key that had no row only while it still has none', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      store.arbitrate([other], B, writing([write(record(B))]), null);
      store.settle({
        keys: [
          { key, version: null, write: write(record(A, 'changed')) },
          { key: other, version: null, write: write(record(A)) },
        ],
        log: null,
      });
      await nextTurn();
      expect(viewOf(store).record).toEqual(record(A, 'changed'));
      expect(viewOf(store, other).record).toEqual(record(B));
    });

    it('settles each key of an alert on its own', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const sent = store.arbitrate([key, other], A, writing([write(record(A, 'in-flight')), write(record(A, 'in-flight'))]), null);
      store.arbitrate([other], B, writing([write(record(B))]), null);
      store.settle({
        keys: [
          { key, version: sent.versions[0]!, write: write(record(A, 'unknown-outcome')) },
          { key: other, version: sent.versions[1]!, write: write(record(A, 'unknown-outcome')) },
        ],
        log: null,
      });
      await nextTurn();
      expect(look(store, [key, other]).views.map((v) => v.record)).toEqual([record(A, 'unknown-outcome'), record(B)]);
    });

    it('is applied by the next arbitrate before it decides, even before its own write ran', () => {
      const sent = store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: { id: sent.logId!, outcome } });
      expect(viewOf(store).record).toEqual(record(A));
      expect(store.listLogs({ limit: 1 })[0]?.decision).toBe('forwarded');
    });
  });

  describe('recordRefusal', () => {
    it('records the refused alert’s log row, marks and fingerprint (as refused) once the queue runs', async () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      store.recordRefusal({
        keys: [key, other],
        marks: [mark(A, true)],
        record: null,
        identity: identity('fp-r'),
        log: log({ decision: 'blocked', reason: 'database busy: nothing was decided or forwarded' }),
      });
      await nextTurn();
      expect(store.listLogs({ limit: 5 })).toMatchObject([{ decision: 'blocked', reason: 'database busy: nothing was decided or forwarded' }]);
      const { views, earlier } = look(store, [key, other], A, identity('fp-r'));
      expect(views.map((v) => v.sender)).toEqual([
        { holdsNothing: true, lastFingerprint: 'fp-r' },
        { holdsNothing: true, lastFingerprint: 'fp-r' },
      ]);
      expect(earlier).toEqual({ at: T0, refused: true });
    });

    it('records a refusal without an identity and without keys', async () => {
      store.recordRefusal({ keys: [], marks: [], record: null, identity: null, log: log({ decision: 'blocked' }) });
      await nextTurn();
      expect(store.listLogs({ limit: 5 })).toHaveLength(1);
    });

    it('a decided copy seen after a refused one is no longer refused', () => {
      store.recordRefusal({ keys: [key], marks: [], record: null, identity: identity('fp'), log: log({ decision: 'blocked' }) });
      clock = T0 + 5000;
      store.arbitrate([key], A, writing([null], { seen: true }), identity('fp'));
      expect(look(store, [key], A, identity('fp')).earlier).toEqual({ at: T0 + 5000, refused: false });
    });
  });

  describe('by hand and after a crash', () => {
    it('clears one position by a user’s key: the key stays in doubt (a new version) and the owner holds nothing there', () => {
      store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const sent = store.arbitrate([key], A, writing([write(record(A))]), null);
      clock = T0 + 100;
      expect(store.clearPosition({ relayUser: 'bob', account: 'sim101', instrumentKey: 'ES' })).toBe(true);
      expect(store.listPositions()).toEqual([]);
      const cleared = viewOf(store);
      expect(cleared).toEqual({
        record: { owner: null, doubt: { kind: 'changed', since: T0 + 100 } },
        version: expect.any(Number),
        sender: { holdsNothing: true, lastFingerprint: null },
      });
      expect(cleared.version).not.toBe(sent.versions[0]);
      // nobody owns it any more: clearing it again answers false, and puts it in doubt afresh
      clock = T0 + 200;
      expect(store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' })).toBe(false);
      const again = viewOf(store);
      expect(again.record).toEqual({ owner: null, doubt: { kind: 'changed', since: T0 + 200 } });
      expect(again.version).not.toBe(cleared.version);
    });

    it('answers false for an unknown user, for a key without a record, and for a key nobody owns (putting it in doubt ‘changed’)', () => {
      store.saveUser({ relayUser: 'bob', crosstradeKey: BOB_KEY, webhookUrl: 'https://x.test/b' });
      const sent = store.arbitrate([key], A, writing([write(record(A))]), null);
      clock = T0 + 100;
      expect(store.clearPosition({ relayUser: 'nobody', account: 'Sim101', instrumentKey: 'ES' })).toBe(false);
      expect(store.listPositions()).toHaveLength(1);
      expect(viewOf(store)).toMatchObject({ record: record(A), version: sent.versions[0] });
      const rty = { ...key, instrumentKey: 'RTY' };
      expect(store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'RTY' })).toBe(false);
      expect(viewOf(store, rty)).toMatchObject({ record: { owner: null, doubt: null }, version: null });
      const nq = { ...key, instrumentKey: 'NQ' };
      const unowned = store.arbitrate([nq], A, writing([write(record(null, 'unknown-outcome'))]), null);
      expect(store.clearPosition({ relayUser: 'bob', account: 'Sim101', instrumentKey: 'NQ' })).toBe(false);
      const view = viewOf(store, nq);
      expect(view.record).toEqual({ owner: null, doubt: { kind: 'changed', since: T0 + 100 } });
      expect(view.version).not.toBe(unowned.versions[0]);
    });

    it('closes forwards a crash left: pending rows become unknown, in-flight records of unknown outcome, versions kept', () => {
      const other: PositionKey = { ...key, account: 'Sim102' };
      const nq: PositionKey = { ...key, instrumentKey: 'NQ' };
      const sent = store.arbitrate(
        [key, other, nq],
        A,
        writing([write(record(A, 'in-flight')), write(record(null, 'in-flight')), write(record(A, 'working-order'))]),
        null,
      );
      store.appendLog(log({ decision: 'pending' }));
      store.appendLog(log({ decision: 'forwarded' }));
      store.appendLog(log({ decision: 'pending' }));
      expect(store.closeInterruptedForwards('interrupted: the relay stopped before CrossTrade answered')).toBe(2);
      expect(store.listLogs({ limit: 10 }).map((l) => [l.decision, l.reason])).toEqual([
        ['unknown', 'interrupted: the relay stopped before CrossTrade answered'],
        ['forwarded', 'entry: nobody owns the position'],
        ['unknown', 'interrupted: the relay stopped before CrossTrade answered'],
      ]);
      const views = look(store, [key, other, nq]).views;
      expect(views.map((v) => v.record)).toEqual([record(A, 'unknown-outcome'), record(null, 'unknown-outcome'), record(A, 'working-order')]);
      expect(views.map((v) => v.version)).toEqual(sent.versions);
      expect(store.closeInterruptedForwards('again')).toBe(0);
    });

    it('lets a settlement of the same order still land after the crash was closed (the version is kept)', async () => {
      const sent = store.arbitrate([key], A, writing([write(record(A, 'in-flight'))]), null);
      store.closeInterruptedForwards('interrupted');
      store.settle({ keys: [{ key, version: sent.versions[0]!, write: write(record(A)) }], log: null });
      await nextTurn();
      expect(viewOf(store).record).toEqual(record(A));
    });
  });

  describe('log, settings, pruning', () => {
    it('appends log rows and lists them newest first, per user and limited', () => {
      const id = store.appendLog(log());
      store.appendLog(log({ relayUser: 'amy', decision: 'blocked' }));
      expect(store.listLogs({ limit: 10 }).map((l) => l.relayUser)).toEqual(['amy', 'bob']);
      expect(store.listLogs({ relayUser: 'bob', limit: 10 })).toEqual([{ ...log(), id }]);
      expect(store.listLogs({ limit: 1 })).toHaveLength(1);
    });

    it('stores settings', () => {
      expect(store.getSetting('admin_token')).toBeNull();
      store.setSetting('admin_token', 'one');
      store.setSetting('admin_token', 'two');
      expect(store.getSetting('admin_token')).toBe('two');
    });

    it('prunes signal-log rows past the retention and old fingerprints, which are then no longer found', () => {
      store.appendLog(log({ time: 1000, decision: 'blocked' }));
      store.appendLog(log({ time: 5000, decision: 'blocked' }));
      store.arbitrate([key], A, writing([null], { seen: true, log: log({ time: 6000, decision: 'blocked' }) }), identity('f', 60_000));
      clock = T0 + 10;
      store.arbitrate([key], A, writing([null], { seen: true }), identity('g', 60_000));
      expect(store.prune({ logsBefore: 2000, fingerprintsBefore: T0 + 1 })).toEqual({ logs: 1, fingerprints: 1 });
      expect(store.listLogs({ limit: 10 }).map((l) => l.time)).toEqual([6000, 5000]);
      expect(look(store, [key], A, identity('f', 60_000)).earlier).toBeNull();
      expect(look(store, [key], A, identity('g', 60_000)).earlier).toEqual({ at: T0 + 10, refused: false });
    });

    it('sees a write made through a second connection at once', () => {
      const other = open();
      other.saveUser({ relayUser: 'amy', crosstradeKey: 'key-amy-1', webhookUrl: 'https://x.test/1' });
      other.arbitrate([key], A, writing([write(record(A))]), null);
      other.close();
      expect(store.getUser('amy')?.relayUser).toBe('amy');
      expect(viewOf(store).record).toEqual(record(A));
    });
  });
});

describe('SQLite store under a held write lock', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let holder: Database.Database;
  let errors: unknown[];
  const file = () => temp.file('busy.db');
  const open = (retryMs: number) => createSqliteStore(file(), { busyTimeoutMs: 20, retryMs, now: () => T0, onBackgroundError: (error) => errors.push(error) });
  /** Another process takes the write lock and keeps it. */
  const hold = () => {
    holder = new Database(file());
    holder.prepare('BEGIN IMMEDIATE').run();
  };
  const free = () => {
    holder.prepare('COMMIT').run();
    holder.close();
  };
  /** Reads the file directly, without the store (whose listLogs would flush its queue). */
  const raw = <T>(sql: string): T[] => {
    const db = new Database(file(), { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };

  beforeEach(() => {
    temp = makeTempDir();
    errors = [];
  });
  afterEach(() => {
    if (holder?.open) free();
    store.close();
    temp.cleanup();
  });

  /** An in-flight entry of A, a settlement of it and a refusal of B, both queued while the lock is held. */
  function queueWhileHeld() {
    const sent = store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
    hold();
    store.settle({
      keys: [{ key, version: sent.versions[0]!, write: write(record(A), [mark(A, false)]) }],
      log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'delivered', upstreamStatus: 200, latencyMs: 7 } },
    });
    store.recordRefusal({
      keys: [key],
      marks: [mark(B, true)],
      record: null,
      identity: identity('fp-b', 30_000, B),
      log: log({ relayId: 'B', decision: 'blocked', reason: 'database busy: nothing was decided or forwarded' }),
    });
    return sent;
  }

  it('throws StoreBusyError (not an SQLite error) from arbitrate, and decides nothing', () => {
    store = open(60_000);
    hold();
    let decided = false;
    let error: unknown;
    try {
      store.arbitrate(
        [key],
        A,
        () => {
          decided = true;
          return { value: null, writes: [null], seen: false, log: null };
        },
        null,
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreBusyError);
    expect(isStoreBusyError(error)).toBe(true);
    expect((error as Error).message).toBe('database busy: another process holds the write lock');
    expect((error as { code?: unknown }).code).toBeUndefined();
    expect(((error as Error).cause as { code?: string }).code).toBe('SQLITE_BUSY');
    expect(decided).toBe(false);
    free();
    expect(look(store, [key]).views[0]?.record).toEqual({ owner: null, doubt: null });
  });

  it('keeps settlements and refusals queued while busy, and writes them once the lock frees', async () => {
    store = open(30);
    const sent = queueWhileHeld();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(errors.length).toBeGreaterThan(0);
    expect((errors[0] as { code?: string }).code).toBe('SQLITE_BUSY');
    free();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(raw<{ id: number; decision: string; upstream_status: number | null }>('SELECT id, decision, upstream_status FROM signal_log ORDER BY id')).toEqual([
      { id: sent.logId, decision: 'forwarded', upstream_status: 200 },
      { id: sent.logId! + 1, decision: 'blocked', upstream_status: null },
    ]);
    expect(raw('SELECT owner_id, doubt FROM key_records')).toEqual([{ owner_id: 'A', doubt: null }]);
    expect(raw('SELECT relay_id, holds_nothing, last_fingerprint FROM strategy_keys ORDER BY relay_id')).toEqual([
      { relay_id: 'A', holds_nothing: 0, last_fingerprint: null },
      { relay_id: 'B', holds_nothing: 1, last_fingerprint: 'fp-b' },
    ]);
    expect(raw('SELECT fingerprint, refused FROM alert_fingerprints')).toEqual([{ fingerprint: 'fp-b', refused: 1 }]);
  });

  it('has the next arbitrate apply what is queued before it decides, once, even before the retry runs', async () => {
    store = open(60_000); // the retry would come far too late: only the arbitration can have written them
    queueWhileHeld();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(() => look(store, [key], B)).toThrow(StoreBusyError);
    free();
    const { views, earlier } = look(store, [key], B, identity('fp-b', 30_000, B));
    expect(views[0]).toMatchObject({ record: record(A), sender: { holdsNothing: true, lastFingerprint: 'fp-b' } });
    expect(earlier).toEqual({ at: T0, refused: true });
    expect(raw<{ decision: string }>('SELECT decision FROM signal_log ORDER BY id').map((r) => r.decision)).toEqual(['forwarded', 'blocked']);
    // applied once: neither another arbitration nor closing writes them again
    look(store, [key], B);
    store.close();
    expect(raw('SELECT count(*) AS n FROM signal_log')).toEqual([{ n: 2 }]);
  });
});

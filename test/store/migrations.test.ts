import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Strategy } from '../../src/engine/types.js';
import { accountGroupOf } from '../../src/store/account-group.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import type { PositionKey, SignalLogInput, Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const SHARED_KEY = 'key-shared-by-alice-and-bob';
const CAROL_KEY = 'key-of-carol-1';

/** A database as a relay of schema version `version` left it. */
function oldDatabase(file: string, version: number, fill: (db: Database.Database) => void): void {
  const db = new Database(file);
  for (let v = 0; v < version; v++) db.exec(MIGRATIONS[v]!);
  db.pragma(`user_version = ${version}`);
  fill(db);
  db.close();
}

function tables(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((t) => t.name);
  } finally {
    db.close();
  }
}

async function look(store: Store, key: PositionKey, sender: Strategy) {
  return (await store.arbitrate([key], sender, (views, earlier) => ({ value: { view: views[0]!, earlier }, writes: [null], seen: false, log: null }), null))
    .value;
}

const entry: SignalLogInput = {
  time: 1,
  relayUser: 'alice',
  relayId: 'trend',
  account: 'Sim101',
  instrument: 'ES 03-26',
  signalType: 'entry',
  decision: 'blocked',
  reason: 'r',
  apiCheck: null,
  upstreamStatus: null,
  latencyMs: null,
  alert: 'a',
};

describe('SQLite store migrations', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store | undefined;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    temp.cleanup();
  });

  it('brings a first-version database up to date and keeps its users and signal log', async () => {
    const file = temp.file('v1.db');
    oldDatabase(file, 1, (db) => {
      db.prepare("INSERT INTO users VALUES ('bob', 'key-of-bob-1', 'https://x.test/1', 'then', 'then')").run();
      db.prepare("INSERT INTO signal_log (time, decision, reason, alert) VALUES (1, 'forwarded', 'r', 'a')").run();
    });
    store = createSqliteStore(file);
    expect(await store.getUser('bob')).toMatchObject({ crosstradeKey: 'key-of-bob-1', relaySecret: null, accountGroup: accountGroupOf('key-of-bob-1') });
    expect((await store.listLogs({ limit: 5 })).map((l) => [l.id, l.decision])).toEqual([[1, 'forwarded']]);
    expect(await store.appendLog(entry)).toBe(2);
    await store.close();
    store = undefined;
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  describe('from schema v5 (positions per relay_user, blocked_senders) to v6', () => {
    const file = () => temp.file('v5.db');
    beforeEach(() => {
      oldDatabase(file(), 5, (db) => {
        const user = db.prepare('INSERT INTO users (relay_user, crosstrade_key, webhook_url, relay_secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
        user.run('alice', SHARED_KEY, 'https://x.test/a', null, 'then', 'then');
        user.run('bob', SHARED_KEY, 'https://x.test/b', 'sha256:abc', 'then', 'then');
        user.run('carol', CAROL_KEY, 'https://x.test/c', null, 'then', 'then');
        const position = db.prepare(
          'INSERT INTO positions (relay_user, account_key, instrument_key, account, instrument, relay_id, direction, opened_at, claimed_at, hold_until, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        );
        position.run('alice', 'sim101', 'ES', 'Sim101', 'ES 03-26', 'trend', 'long', 100, 110, 120, 130, 111);
        position.run('bob', 'apex-7', 'NQ', 'Apex-7', 'NQ1!', 'swing', 'short', 200, 210, 220, 230, 222);
        position.run('carol', 'sim101', 'ES', 'Sim101', 'ESH26', 'scalp', 'short', 300, 310, 320, 330, 333);
        position.run('gone', 'sim101', 'RTY', 'Sim101', 'RTY1!', 'x', 'long', 1, 1, 1, 1, 1); // a user removed by hand
        const blocked = db.prepare('INSERT INTO blocked_senders (relay_user, account_key, instrument_key, relay_id, since) VALUES (?, ?, ?, ?, ?)');
        blocked.run('bob', 'sim101', 'ES', 'late', 400);
        blocked.run('carol', 'sim101', 'ES', 'other', 500);
        db.prepare("INSERT INTO signal_log (time, relay_user, decision, reason, alert) VALUES (1, 'alice', 'pending', 'r', 'a')").run();
        db.prepare("INSERT INTO alert_fingerprints (fingerprint, time) VALUES ('old-fp', 1)").run();
      });
      store = createSqliteStore(file());
    });

    const shared = (account: string, instrumentKey: string): PositionKey => ({ accountGroup: accountGroupOf(SHARED_KEY), account, instrumentKey });
    const carols = (account: string, instrumentKey: string): PositionKey => ({ accountGroup: accountGroupOf(CAROL_KEY), account, instrumentKey });

    it('reaches v6 with the new tables and without the old ones', async () => {
      const db = new Database(file(), { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const columns = db.prepare<[], { name: string }>('PRAGMA table_info(alert_fingerprints)').all();
      const keyColumns = db.prepare<[], { name: string; type: string }>('PRAGMA table_info(key_records)').all();
      db.close();
      expect(tables(file())).toEqual(['alert_fingerprints', 'key_records', 'paper_books', 'settings', 'signal_log', 'strategy_keys', 'users']);
      expect(columns.map((c) => c.name)).toEqual(['fingerprint', 'time', 'refused']);
      expect(keyColumns.map((c) => c.name)).toEqual([
        'account_group',
        'account_key',
        'instrument_key',
        'account',
        'instrument',
        'owner_user',
        'owner_id',
        'direction',
        'quantity',
        'opened_at',
        'claimed_at',
        'hold_until',
        'doubt',
        'doubt_since',
        'updated_at',
        'version',
      ]);
      expect(keyColumns.find((c) => c.name === 'quantity')?.type).toBe('INTEGER');
    });

    it('fills each user’s account group from its key, keeping the user as it was', async () => {
      expect((await store!.listUsers()).map((u) => [u.relayUser, u.crosstradeKey, u.relaySecret, u.accountGroup])).toEqual([
        ['alice', SHARED_KEY, null, accountGroupOf(SHARED_KEY)],
        ['bob', SHARED_KEY, 'sha256:abc', accountGroupOf(SHARED_KEY)],
        ['carol', CAROL_KEY, null, accountGroupOf(CAROL_KEY)],
      ]);
    });

    it('keeps every owner, its direction, times and version, under its account group and with no doubt; its contracts are not known', async () => {
      expect(await store!.listPositions()).toEqual([
        {
          relayUser: 'alice',
          relayId: 'trend',
          direction: 'long',
          quantity: null,
          openedAt: 100,
          claimedAt: 110,
          holdUntil: 120,
          account: 'Sim101',
          instrumentKey: 'ES',
          instrument: 'ES 03-26',
          doubt: null,
          updatedAt: 130,
        },
        expect.objectContaining({
          relayUser: 'bob',
          relayId: 'swing',
          direction: 'short',
          quantity: null,
          account: 'Apex-7',
          instrumentKey: 'NQ',
          doubt: null,
        }),
        expect.objectContaining({
          relayUser: 'carol',
          relayId: 'scalp',
          direction: 'short',
          quantity: null,
          account: 'Sim101',
          instrumentKey: 'ES',
          doubt: null,
        }),
      ]);
      const alice = { relayUser: 'alice', relayId: 'trend' };
      expect((await look(store!, shared('SIM101', 'ES'), alice)).view).toMatchObject({ record: { owner: alice, doubt: null }, version: 111 });
      // bob shares alice's key: he sees her record; carol's Sim101 is another CrossTrade user's account
      expect((await look(store!, shared('Apex-7', 'NQ'), alice)).view).toMatchObject({
        record: { owner: { relayUser: 'bob', relayId: 'swing' } },
        version: 222,
      });
      expect((await look(store!, carols('Sim101', 'ES'), alice)).view).toMatchObject({ record: { owner: { relayUser: 'carol' } }, version: 333 });
      expect((await look(store!, carols('Apex-7', 'NQ'), alice)).view.record).toEqual({ owner: null, doubt: null });
    });

    it('turns blocked senders into strategies holding nothing on their key', async () => {
      expect((await look(store!, shared('Sim101', 'ES'), { relayUser: 'bob', relayId: 'late' })).view.sender).toEqual({
        holdsNothing: true,
        lastFingerprint: null,
      });
      expect((await look(store!, carols('sim101', 'ES'), { relayUser: 'carol', relayId: 'other' })).view.sender).toEqual({
        holdsNothing: true,
        lastFingerprint: null,
      });
      expect((await look(store!, shared('Sim101', 'ES'), { relayUser: 'alice', relayId: 'trend' })).view.sender.holdsNothing).toBe(false);
      expect((await look(store!, carols('Sim101', 'ES'), { relayUser: 'bob', relayId: 'late' })).view.sender.holdsNothing).toBe(false);
    });

    it('keeps the signal log; earlier fingerprints are not carried over', async () => {
      expect((await store!.listLogs({ limit: 5 })).map((l) => [l.relayUser, l.decision])).toEqual([['alice', 'pending']]);
      const found = await store!.arbitrate(
        [],
        { relayUser: 'alice', relayId: 'trend' },
        (_views, earlier) => ({ value: earlier, writes: [], seen: false, log: null }),
        {
          fingerprint: 'old-fp',
          relayUser: 'alice',
          relayId: 'trend',
          windowMs: Number.MAX_SAFE_INTEGER,
        },
      );
      expect(found.value).toBeNull();
    });

    it('drops the positions of users that no longer exist', async () => {
      expect((await store!.listPositions()).map((p) => p.relayUser)).not.toContain('gone');
    });

    it('is not applied again on the next open', async () => {
      await store!.close();
      store = createSqliteStore(file());
      expect(await store.listPositions()).toHaveLength(3);
    });
  });

  it('keeps only one owner when two users sharing a key owned the same account and product', async () => {
    const file = temp.file('clash.db');
    oldDatabase(file, 5, (db) => {
      const user = db.prepare("INSERT INTO users (relay_user, crosstrade_key, webhook_url, created_at, updated_at) VALUES (?, ?, 'https://x.test', 't', 't')");
      user.run('alice', SHARED_KEY);
      user.run('bob', SHARED_KEY);
      const position = db.prepare(
        "INSERT INTO positions (relay_user, account_key, instrument_key, account, instrument, relay_id, direction, opened_at, claimed_at, hold_until, updated_at, version) VALUES (?, 'sim101', 'ES', 'Sim101', 'ES 03-26', ?, 'long', 1, 1, 1, 1, 1)",
      );
      position.run('alice', 'trend');
      position.run('bob', 'swing');
    });
    store = createSqliteStore(file);
    // One key per account group now: the second owner cannot be kept (see the report on issue 7).
    expect(await store.listPositions()).toHaveLength(1);
  });
});

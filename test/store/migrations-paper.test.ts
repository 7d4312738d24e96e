import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountGroupOf } from '../../src/store/account-group.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import type { Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const KEY = 'key-of-paula-000111';

describe('schema v7: paper mode', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store | undefined;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => {
    store?.close();
    store = undefined;
    temp.cleanup();
  });

  it('brings a v6 database to v7: its users stay live, an empty paper book table is added', () => {
    const file = temp.file('v6.db');
    const db = new Database(file);
    db.function('relay_account_group', { deterministic: true }, (key: unknown) => accountGroupOf(String(key)));
    for (let v = 0; v < 6; v++) db.exec(MIGRATIONS[v]!);
    db.pragma('user_version = 6');
    db.prepare(
      "INSERT INTO users (relay_user, crosstrade_key, webhook_url, created_at, updated_at, account_group) VALUES ('bob', ?, 'https://x.test/1', 't', 't', ?)",
    ).run(KEY, accountGroupOf(KEY));
    db.close();
    store = createSqliteStore(file);
    expect(store.getUser('bob')).toMatchObject({ paper: false, accountGroup: accountGroupOf(KEY) });
    expect(store.getPaperBook(accountGroupOf(KEY, true))).toBeNull();
    store.savePaperBook(accountGroupOf(KEY, true), '{"v":1,"positions":[]}');
    expect(store.getPaperBook(accountGroupOf(KEY, true))).toBe('{"v":1,"positions":[]}');
    store.close();
    store = undefined;
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    check.close();
  });

  it('puts a paper user in a paper account group of its own, apart from a live user of the same key', () => {
    store = createSqliteStore(temp.file('relay.db'));
    store.saveUser({ relayUser: 'paula', crosstradeKey: KEY, webhookUrl: 'https://x.test/1', paper: true });
    store.saveUser({ relayUser: 'bob', crosstradeKey: KEY, webhookUrl: 'https://x.test/1' });
    expect(store.getUser('paula')).toMatchObject({ paper: true, accountGroup: `paper-${accountGroupOf(KEY)}` });
    expect(store.getUser('bob')).toMatchObject({ paper: false, accountGroup: accountGroupOf(KEY) });
  });

  it('releases, never moves, what a user owned when it switches between paper and live', () => {
    store = createSqliteStore(temp.file('relay.db'));
    store.saveUser({ relayUser: 'paula', crosstradeKey: KEY, webhookUrl: 'https://x.test/1', paper: true });
    const paperKey = { accountGroup: accountGroupOf(KEY, true), account: 'Sim101', instrumentKey: 'ES' };
    const owner = { relayUser: 'paula', relayId: 'A' };
    store.arbitrate(
      [paperKey],
      owner,
      () => ({
        value: null,
        writes: [
          { instrument: 'ES 03-26', record: { owner: { ...owner, direction: 'long', openedAt: 1, claimedAt: 1, holdUntil: 2 }, doubt: null }, marks: [] },
        ],
        seen: false,
        log: null,
      }),
      null,
    );
    expect(store.listPositions('paula')).toHaveLength(1);
    store.saveUser({ relayUser: 'paula', crosstradeKey: KEY, webhookUrl: 'https://x.test/1', paper: false });
    expect(store.getUser('paula')).toMatchObject({ paper: false, accountGroup: accountGroupOf(KEY) });
    expect(store.listPositions('paula')).toEqual([]);
    expect(store.listKeys(accountGroupOf(KEY))).toEqual([]);
  });
});

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
  afterEach(async () => {
    await store?.close();
    store = undefined;
    temp.cleanup();
  });

  it('brings a v6 database to v7: its users stay live, an empty paper book table is added', async () => {
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
    expect(await store.getUser('bob')).toMatchObject({ paper: false, accountGroup: accountGroupOf(KEY) });
    expect(await store.getPaperBook(accountGroupOf(KEY, true))).toBeNull();
    await store.savePaperBook(accountGroupOf(KEY, true), '{"v":1,"positions":[]}');
    expect(await store.getPaperBook(accountGroupOf(KEY, true))).toBe('{"v":1,"positions":[]}');
    await store.close();
    store = undefined;
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(7);
    check.close();
  });
});

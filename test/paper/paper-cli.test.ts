import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPaperCrossTrade } from '../../src/paper/create-paper-crosstrade.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { type CliSandbox, createCliSandbox } from '../helpers/run-cli.js';

const KEY = 'paper-key-of-paula-0001';
const URL = 'https://app.crosstrade.io/v1/send/acct-1/tok-2';

let sandbox: CliSandbox;
beforeEach(() => {
  sandbox = createCliSandbox();
});
afterEach(() => {
  sandbox.cleanup();
});

describe('paper mode from the command line', () => {
  it('add-user --paper creates a paper user; list-users shows its mode', async () => {
    const added = await sandbox.run(['add-user', '--user', 'paula', '--key', KEY, '--webhook-url', URL, '--paper']);
    expect(added).toEqual({
      code: 0,
      stdout: `user paula created in ${sandbox.dbPath} (paper mode: orders go to the paper book, not to CrossTrade)\n`,
      stderr: '',
    });
    await sandbox.run(['add-user', '--user', 'bob', '--key', 'live-key-of-bob-0001', '--webhook-url', URL]);
    const listed = await sandbox.run(['list-users', '--json']);
    expect(JSON.parse(listed.stdout).users.map((u: { relay_user: string; paper: boolean }) => [u.relay_user, u.paper])).toEqual([
      ['bob', false],
      ['paula', true],
    ]);
    const table = await sandbox.run(['list-users']);
    expect(table.stdout.split('\n')[2]).toMatch(/^paula {7}paper /);
  });

  it('test-alert reads a paper user’s position from the paper book, never CrossTrade', async () => {
    await sandbox.run(['add-user', '--user', 'paula', '--key', KEY, '--webhook-url', URL, '--paper']);
    const store = createSqliteStore(sandbox.dbPath);
    await createPaperCrossTrade({ store }).forward('', `key=${KEY}; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET;`);
    await store.close();
    const alert =
      'relay_user=paula; relay_id=A; command=PLACE; account=Sim101; instrument=ES 03-26; action=SELL; qty=1; prev_market_position=long; market_position=flat;';
    fs.writeFileSync(`${sandbox.dir}/alert.txt`, alert);
    // An API URL nobody answers on: a read of CrossTrade would fail, the paper book answers.
    const result = await sandbox.run(['test-alert', '--file', `${sandbox.dir}/alert.txt`], {
      env: { ...sandbox.env, CROSSTRADE_API_URL: 'http://127.0.0.1:1' },
    });
    expect(result.stdout).toContain('relay_user:     paula (paper mode: orders go to the paper book)');
    expect(result.stdout).toContain('to:             the paper book (nothing goes to CrossTrade)');
    expect(result.stdout).toContain('position check: open: Long 1 ES 03-26');
    expect(result.stdout).toContain('decision now:   would be forwarded: exit: nobody owns the position; reconciled: CrossTrade reports Long 1 ES 03-26');
  });
});

import { spawn } from 'node:child_process';
import { listenHint } from '../../src/cli/commands/listen-hint.js';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logView, positionView, userView } from '../../src/http/views.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import type { DoubtKind } from '../../src/engine/types.js';
import { accountGroupOf } from '../../src/store/account-group.js';
import type { KeyView, SignalLogInput, Store } from '../../src/store/store.js';
import { CLI_MAIN, type CliSandbox, createCliSandbox, exitCode, waitForLine } from '../helpers/run-cli.js';

const KEY = 'ct-secret-key-9f3a7c21';
const WEBHOOK_URL = 'https://app.crosstrade.io/v1/send/acct-4411/tok-5e8d2b90';
const WEBHOOK_PATH = '/v1/send/acct-4411/tok-5e8d2b90';
const OPENED_AT = Date.UTC(2026, 0, 5, 14, 30);

let sandbox: CliSandbox;
let openStores: Store[];

beforeEach(() => {
  sandbox = createCliSandbox();
  openStores = [];
});

afterEach(async () => {
  for (const store of openStores) await store.close();
  sandbox.cleanup();
});

/** A store opened apart from the CLI, as a running relay would have it. */
function openStore(file = sandbox.dbPath): Store {
  const store = createSqliteStore(file);
  openStores.push(store);
  return store;
}

function addAlice(...extra: string[]) {
  return sandbox.run(['add-user', '--user', 'alice', '--key', KEY, '--webhook-url', WEBHOOK_URL, ...extra]);
}

interface Seed {
  relayUser: string;
  account: string;
  instrument: string;
  key: string;
  relayId: string;
  direction: 'long' | 'short';
  /** The CrossTrade key of the owner's account group (default: the user's stored one, else a key of its own). */
  crosstradeKey?: string;
  doubt?: DoubtKind;
}

async function groupOf(store: Store, relayUser: string, crosstradeKey?: string): Promise<string> {
  return accountGroupOf(crosstradeKey ?? (await store.getUser(relayUser))?.crosstradeKey ?? `key-of-${relayUser}`);
}

/** An owned key, written as the relay writes it: through an arbitration. */
async function seedPosition(store: Store, p: Seed) {
  const owner = { relayUser: p.relayUser, relayId: p.relayId };
  await store.arbitrate(
    [{ accountGroup: await groupOf(store, p.relayUser, p.crosstradeKey), account: p.account, instrumentKey: p.key }],
    owner,
    () => ({
      value: null,
      writes: [
        {
          instrument: p.instrument,
          record: {
            owner: { ...owner, direction: p.direction, openedAt: OPENED_AT, claimedAt: OPENED_AT, holdUntil: OPENED_AT + 10_000 },
            doubt: p.doubt === undefined ? null : { kind: p.doubt, since: OPENED_AT },
          },
          marks: [],
        },
      ],
      seen: false,
      log: null,
    }),
    null,
  );
}

/** What the relay's next arbitration would see of a key, for one strategy. */
async function view(
  store: Store,
  accountGroup: string,
  account: string,
  instrumentKey: string,
  sender: { relayUser: string; relayId: string },
): Promise<KeyView> {
  return (
    await store.arbitrate([{ accountGroup, account, instrumentKey }], sender, (views) => ({ value: views[0]!, writes: [null], seen: false, log: null }), null)
  ).value;
}

function logEntry(overrides: Partial<SignalLogInput>): SignalLogInput {
  return {
    time: OPENED_AT,
    relayUser: 'alice',
    relayId: 'trend',
    account: 'Sim101',
    instrument: 'RTY1!',
    signalType: 'entry',
    decision: 'forwarded',
    reason: 'flat',
    apiCheck: null,
    upstreamStatus: 200,
    latencyMs: 120,
    alert: 'relay_user=alice;relay_id=trend;action=buy;',
    ...overrides,
  };
}

// The terminal tests drive a real TTY through util-linux `script`: Linux only (CI runs Linux).
const hasLinuxScript = process.platform === 'linux';

/**
 * Runs the CLI in a pseudo-terminal (util-linux `script`), typing each answer once its prompt
 * text shows. Answers the screen without colour and cursor codes.
 */
async function runInTerminal(args: string[], steps: [prompt: string, keys: string][]): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI_MAIN, ...args].map((word) => `"${word}"`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...sandbox.env, TERM: 'dumb' } });
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString('utf8');
    const step = steps[0];
    if (step && screen.includes(step[0])) {
      steps.shift();
      setTimeout(() => child.stdin.write(step[1]), 50);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await exitCode(child);
  clearTimeout(timer);
  return { code, screen: screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '') };
}

describe('add-user', () => {
  it('creates a user from flags and stores exactly what was given', async () => {
    const result = await addAlice();
    expect(result).toEqual({ code: 0, stdout: `user alice created in ${sandbox.dbPath}\n`, stderr: '' });
    expect(await openStore().getUser('alice')).toMatchObject({
      relayUser: 'alice',
      crosstradeKey: KEY,
      webhookUrl: WEBHOOK_URL,
      relaySecret: null,
      accountGroup: accountGroupOf(KEY),
    });
  });

  it('updates an existing user and says so', async () => {
    await addAlice();
    const result = await sandbox.run(['add-user', '--user', 'alice', '--key', 'new-key-12345678', '--webhook-url', WEBHOOK_URL]);
    expect(result).toEqual({ code: 0, stdout: `user alice updated in ${sandbox.dbPath}\n`, stderr: '' });
    expect(await openStore().getUser('alice')).toMatchObject({ crosstradeKey: 'new-key-12345678', accountGroup: accountGroupOf('new-key-12345678') });
  });

  it('puts users with the same CrossTrade key in one account group', async () => {
    await addAlice();
    await sandbox.run(['add-user', '--user', 'bob', '--key', KEY, '--webhook-url', 'https://app.crosstrade.io/v1/send/acct-4411/tok-other']);
    await sandbox.run(['add-user', '--user', 'carol', '--key', 'carols-key-0001', '--webhook-url', WEBHOOK_URL]);
    const groups = (await openStore().listUsers()).map((u) => u.accountGroup);
    expect(groups).toEqual([accountGroupOf(KEY), accountGroupOf(KEY), accountGroupOf('carols-key-0001')]);
  });

  it('moves the user’s positions along when its key changes, visible at once to a store already open', async () => {
    await addAlice();
    const store = openStore();
    await seedPosition(store, { relayUser: 'alice', account: 'Sim101', instrument: 'RTY1!', key: 'RTY', relayId: 'trend', direction: 'long' });
    await sandbox.run(['add-user', '--user', 'alice', '--key', 'new-key-12345678', '--webhook-url', WEBHOOK_URL]);
    expect(await store.listPositions('alice')).toMatchObject([{ relayId: 'trend', account: 'Sim101', instrumentKey: 'RTY' }]);
    const trend = { relayUser: 'alice', relayId: 'trend' };
    expect((await view(store, accountGroupOf('new-key-12345678'), 'Sim101', 'RTY', trend)).record.owner).toMatchObject(trend);
    expect((await view(store, accountGroupOf(KEY), 'Sim101', 'RTY', trend)).record.owner).toBeNull();
  });

  it('trims pasted spaces around the values', async () => {
    const result = await sandbox.run(['add-user', '--user', ' alice ', '--key', ` ${KEY}  `, '--webhook-url', ` ${WEBHOOK_URL} `]);
    expect(result.stdout).toBe(`user alice created in ${sandbox.dbPath}\n`);
    expect(await openStore().getUser('alice')).toMatchObject({ crosstradeKey: KEY, webhookUrl: WEBHOOK_URL });
  });

  it.each([
    [['--user', 'al ice', '--key', KEY, '--webhook-url', WEBHOOK_URL], 'error: relay_user must be 1-64 letters, digits or _.@:-\n'],
    [['--user', 'alice', '--key', 'short', '--webhook-url', WEBHOOK_URL], 'error: crosstrade_key must be at least 8 characters\n'],
    [['--user', 'alice', '--key', 'abc;defgh', '--webhook-url', WEBHOOK_URL], 'error: crosstrade_key must not contain spaces, ";" or "="\n'],
    [
      ['--user', 'alice', '--key', KEY, '--webhook-url', 'ftp://app.crosstrade.io/x'],
      'error: webhook_url must be an https URL, e.g. https://app.crosstrade.io/v1/send/...\n',
    ],
    // Issue 8, case 10: https with a path, plain http only on this machine (the simulator).
    [
      ['--user', 'alice', '--key', KEY, '--webhook-url', 'http://example.com'],
      'error: webhook_url must use https (plain http only for a simulator on this machine): the order and the CrossTrade key would cross the internet in clear, e.g. https://app.crosstrade.io/v1/send/...\n',
    ],
    [
      ['--user', 'alice', '--key', KEY, '--webhook-url', 'https://app.crosstrade.io/'],
      'error: webhook_url has no path: copy the whole webhook URL from CrossTrade, e.g. https://app.crosstrade.io/v1/send/...\n',
    ],
  ])('rejects an invalid value with its reason: %j', async (args, message) => {
    const result = await sandbox.run(['add-user', ...args]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: message });
    expect(await openStore().listUsers()).toEqual([]);
  });

  it('accepts another host than CrossTrade’s with a warning, and the simulator on this machine without one', async () => {
    const other = await sandbox.run(['add-user', '--user', 'alice', '--key', KEY, '--webhook-url', 'https://hooks.example.com/v1/send/a/b']);
    expect(other).toEqual({
      code: 0,
      stdout: `user alice created in ${sandbox.dbPath}\n`,
      stderr:
        "warning: the webhook URL's host hooks.example.com is not CrossTrade's (app.crosstrade.io): orders will go there; check that you copied the CrossTrade webhook URL\n",
    });
    const sim = await sandbox.run(['add-user', '--user', 'bob', '--key', KEY, '--webhook-url', 'http://127.0.0.1:8090/v1/send/a/b']);
    expect(sim).toEqual({ code: 0, stdout: `user bob created in ${sandbox.dbPath}\n`, stderr: '' });
  });

  it('does not wait for input when not run interactively and a value is missing', async () => {
    const result = await sandbox.run(['add-user', '--user', 'alice']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: --user, --key and --webhook-url are required when not run interactively\n' });
  });

  it.skipIf(!hasLinuxScript)('prompts for the missing values in a terminal, re-asking after an invalid key', async () => {
    const { code, screen } = await runInTerminal(
      ['add-user', '--user', 'alice'],
      [
        ['CrossTrade key:', 'short\r'],
        ['crosstrade_key must be at least 8 characters', '-key-123\r'], // the prompt keeps "short"
        ['CrossTrade webhook URL:', `${WEBHOOK_URL}\r`],
      ],
    );
    expect(code).toBe(0);
    expect(screen).toContain('✔ CrossTrade webhook URL: https://app.crosstrade.io/****');
    expect(screen).toContain('user alice created');
    expect(screen).not.toContain('short-key-123');
    expect(await openStore().getUser('alice')).toMatchObject({ crosstradeKey: 'short-key-123', webhookUrl: WEBHOOK_URL });
  });

  it.skipIf(!hasLinuxScript)('refuses a plain-http webhook URL at the prompt (issue 8, case 10)', async () => {
    const { code, screen } = await runInTerminal(
      ['add-user', '--user', 'alice', '--key', KEY],
      [
        ['CrossTrade webhook URL:', 'http://example.com\r'],
        ['webhook_url must use https', '\u0003'],
      ],
    );
    expect(code).toBe(1);
    expect(screen).toContain('webhook_url must use https (plain http only for a simulator on this machine)');
    expect(await openStore().listUsers()).toEqual([]);
  });

  it.skipIf(!hasLinuxScript)('adds nobody when a prompt is cancelled with Ctrl+C', async () => {
    const { code, screen } = await runInTerminal(['add-user'], [['relay_user:', '\u0003']]);
    expect(code).toBe(1);
    expect(screen).toBe('? relay_user:\r\ncancelled\r\n');
    expect(await openStore().listUsers()).toEqual([]);
  });
});

describe('list-users', () => {
  it('says so when there are no users', async () => {
    expect(await sandbox.run(['list-users'])).toEqual({ code: 0, stdout: 'no users\n', stderr: '' });
  });

  it('shows a table with the key and webhook URL masked', async () => {
    await addAlice();
    await sandbox.run([
      'add-user',
      '--user',
      'bob',
      '--key',
      'bobs-key-000111',
      '--webhook-url',
      'http://127.0.0.1:8090/v1/send/b/c',
      '--secret',
      'bobs-passphrase',
    ]);
    const [alice, bob] = await openStore().listUsers();
    const result = await sandbox.run(['list-users']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'relay_user  mode  crosstrade_key  webhook_url                     relay_secret  created',
        `alice       live  ****7c21        https://app.crosstrade.io/****  -             ${alice?.createdAt}`,
        `bob         live  ****            http://127.0.0.1:8090/****      ****          ${bob?.createdAt}`,
        '',
      ].join('\n'),
    );
    expect(result.stdout).not.toContain('bobs-passphrase');
    expect(bob?.relaySecret).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('refuses a relay secret that could not be sent in an alert', async () => {
    const result = await sandbox.run([
      'add-user',
      '--user',
      'bob',
      '--key',
      'bobs-key-000111',
      '--webhook-url',
      'http://127.0.0.1:8090/v1/send/b/c',
      '--secret',
      'has space',
    ]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: relay_secret must not contain spaces, ";" or "="\n' });
  });

  it('prints the same masked views as the management API with --json', async () => {
    await addAlice();
    const result = await sandbox.run(['list-users', '--json']);
    expect(JSON.parse(result.stdout)).toEqual({ users: (await openStore().listUsers()).map(userView) });
  });

  it('never shows the key or the webhook URL path in clear', async () => {
    const outputs = [await addAlice(), await sandbox.run(['list-users']), await sandbox.run(['list-users', '--json']), await addAlice()];
    for (const { stdout, stderr } of outputs) {
      for (const secret of [KEY, WEBHOOK_URL, WEBHOOK_PATH, 'tok-5e8d2b90']) {
        expect(stdout).not.toContain(secret);
        expect(stderr).not.toContain(secret);
      }
    }
  });
});

describe('remove-user', () => {
  it('removes the user and its positions, visible at once to a store already open', async () => {
    await addAlice();
    const store = openStore();
    await seedPosition(store, { relayUser: 'alice', account: 'Sim101', instrument: 'RTY1!', key: 'RTY', relayId: 'trend', direction: 'long' });
    const result = await sandbox.run(['remove-user', 'alice']);
    expect(result).toEqual({ code: 0, stdout: 'user alice removed\n', stderr: '' });
    expect(await store.getUser('alice')).toBeNull();
    expect(await store.listPositions()).toEqual([]);
    // its strategy holds nothing there any more
    expect((await view(store, accountGroupOf(KEY), 'Sim101', 'RTY', { relayUser: 'alice', relayId: 'trend' })).sender.holdsNothing).toBe(true);
  });

  it('leaves the positions of another user sharing its CrossTrade key', async () => {
    await addAlice();
    await sandbox.run(['add-user', '--user', 'bob', '--key', KEY, '--webhook-url', WEBHOOK_URL]);
    const store = openStore();
    await seedPosition(store, { relayUser: 'alice', account: 'Sim101', instrument: 'RTY1!', key: 'RTY', relayId: 'trend', direction: 'long' });
    await seedPosition(store, { relayUser: 'bob', account: 'Sim101', instrument: 'ESH26', key: 'ES', relayId: 'scalp', direction: 'short' });
    expect((await sandbox.run(['remove-user', 'bob'])).stdout).toBe('user bob removed\n');
    expect((await store.listPositions()).map((p) => [p.relayUser, p.instrumentKey])).toEqual([['alice', 'RTY']]);
  });

  it('fails on an unknown relay_user', async () => {
    expect(await sandbox.run(['remove-user', 'bob'])).toEqual({ code: 1, stdout: '', stderr: 'error: unknown relay_user "bob"\n' });
  });

  it('writes each change made on the command line to the signal log as an admin row', async () => {
    await addAlice();
    const store = openStore();
    await seedPosition(store, { relayUser: 'alice', account: 'Sim101', instrument: 'RTY1!', key: 'RTY', relayId: 'trend', direction: 'long' });
    expect((await sandbox.run(['clear-position', 'alice', 'Sim101', 'RTY'])).code).toBe(0);
    expect((await sandbox.run(['clear-position', 'alice', 'Sim101', 'RTY'])).code).toBe(1);
    expect((await sandbox.run(['remove-user', 'alice'])).code).toBe(0);
    const rows = await store.listLogs({ decisions: ['admin'], limit: 10 });
    expect(rows.map((r) => [r.relayUser, r.account, r.instrument, r.reason])).toEqual([
      ['alice', null, null, 'user removed on the command line'],
      ['alice', 'Sim101', 'RTY', 'position cleared on the command line'],
      ['alice', null, null, 'user created on the command line'],
    ]);
  });

  it('fails when the relay_user is missing', async () => {
    const result = await sandbox.run(['remove-user']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: "error: missing required argument 'relay_user'\n" });
  });
});

describe('positions', () => {
  beforeEach(async () => {
    const store = openStore();
    await seedPosition(store, { relayUser: 'alice', account: 'Sim101', instrument: 'RTY1!', key: 'RTY', relayId: 'trend', direction: 'long' });
    await seedPosition(store, { relayUser: 'bob', account: 'Apex-7', instrument: 'ESH26', key: 'ES', relayId: 'scalp', direction: 'short' });
  });

  it('says so when nothing is open', async () => {
    const result = await sandbox.run(['positions', 'carol']);
    expect(result).toEqual({ code: 0, stdout: 'no open positions\n', stderr: '' });
  });

  it('shows every open position as a table', async () => {
    const result = await sandbox.run(['positions']);
    expect(result.stdout).toBe(
      [
        'relay_user  account  instrument  key  relay_id  direction  opened                    hold_until                doubt',
        'alice       Sim101   RTY1!       RTY  trend     long       2026-01-05T14:30:00.000Z  2026-01-05T14:30:10.000Z',
        'bob         Apex-7   ESH26       ES   scalp     short      2026-01-05T14:30:00.000Z  2026-01-05T14:30:10.000Z',
        '',
      ].join('\n'),
    );
  });

  it('shows the doubt of a position whose record is uncertain', async () => {
    await seedPosition(openStore(), {
      relayUser: 'carol',
      account: 'Sim101',
      instrument: 'NQ1!',
      key: 'NQ',
      relayId: 'swing',
      direction: 'long',
      doubt: 'unknown-outcome',
    });
    const result = await sandbox.run(['positions', 'carol']);
    expect(result.stdout).toBe(
      [
        'relay_user  account  instrument  key  relay_id  direction  opened                    hold_until                doubt',
        'carol       Sim101   NQ1!        NQ   swing     long       2026-01-05T14:30:00.000Z  2026-01-05T14:30:10.000Z  unknown-outcome',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await sandbox.run(['positions', 'carol', '--json'])).stdout) as { positions: { doubt: unknown }[] };
    expect(json.positions.map((p) => p.doubt)).toEqual(['unknown-outcome']);
  });

  it("shows one user's positions as JSON", async () => {
    const result = await sandbox.run(['positions', 'bob', '--json']);
    expect(JSON.parse(result.stdout)).toEqual({ positions: (await openStore().listPositions('bob')).map(positionView) });
  });

  it('rejects an invalid relay_user', async () => {
    const result = await sandbox.run(['positions', 'b o b']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: relay_user must be 1-64 letters, digits or _.@:-\n' });
  });
});

describe('clear-position', () => {
  it('clears the key whatever form the instrument is written in, at once for an open store, leaving it in doubt', async () => {
    await addAlice();
    const store = openStore();
    await seedPosition(store, { relayUser: 'alice', account: 'Sim101', instrument: 'RTY1!', key: 'RTY', relayId: 'trend', direction: 'long' });
    const trend = { relayUser: 'alice', relayId: 'trend' };
    const seeded = (await view(store, accountGroupOf(KEY), 'Sim101', 'RTY', trend)).version;
    const before = Date.now();
    const result = await sandbox.run(['clear-position', 'alice', 'sim101', 'RTY 03-26']);
    const after = Date.now();
    expect(result).toEqual({ code: 0, stdout: 'cleared alice / sim101 / RTY\n', stderr: '' });
    expect(await store.listPositions()).toEqual([]);
    // the key has no owner but stays in doubt (a new version), so the next entry reads CrossTrade first;
    // the released owner holds nothing there: its next alert on the key is judged as such
    const cleared = await view(store, accountGroupOf(KEY), 'SIM101', 'RTY', trend);
    expect(cleared).toEqual({
      record: { owner: null, doubt: { kind: 'changed', since: expect.any(Number) } },
      version: expect.any(Number),
      sender: { holdsNothing: true, lastFingerprint: null },
    });
    expect(cleared.version).not.toBe(seeded);
    expect(cleared.record.doubt?.since).toBeGreaterThanOrEqual(before);
    expect(cleared.record.doubt?.since).toBeLessThanOrEqual(after);
  });

  it('clears a key of the shared accounts through any user with the same CrossTrade key', async () => {
    await addAlice();
    await sandbox.run(['add-user', '--user', 'bob', '--key', KEY, '--webhook-url', WEBHOOK_URL]);
    const store = openStore();
    await seedPosition(store, { relayUser: 'alice', account: 'Sim101', instrument: 'RTY1!', key: 'RTY', relayId: 'trend', direction: 'long' });
    expect(await sandbox.run(['clear-position', 'bob', 'Sim101', 'RTY'])).toEqual({ code: 0, stdout: 'cleared bob / Sim101 / RTY\n', stderr: '' });
    expect(await store.listPositions()).toEqual([]);
  });

  it('does not clear another CrossTrade user’s key of the same name', async () => {
    await addAlice();
    await sandbox.run(['add-user', '--user', 'carol', '--key', 'carols-key-0001', '--webhook-url', WEBHOOK_URL]);
    const store = openStore();
    await seedPosition(store, { relayUser: 'alice', account: 'Sim101', instrument: 'RTY1!', key: 'RTY', relayId: 'trend', direction: 'long' });
    expect(await sandbox.run(['clear-position', 'carol', 'Sim101', 'RTY'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: no position for carol / Sim101 / RTY\n',
    });
    expect(await store.listPositions()).toHaveLength(1);
  });

  it('fails for an unknown relay_user', async () => {
    const result = await sandbox.run(['clear-position', 'nobody', 'Sim101', 'RTY']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: no position for nobody / Sim101 / RTY\n' });
  });

  it('fails when there is no such position, upper-casing a name it cannot read', async () => {
    const result = await sandbox.run(['clear-position', 'alice', 'Sim101', 'foo?bar']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: no position for alice / Sim101 / FOO?BAR\n' });
  });

  it('fails when an argument is missing', async () => {
    const result = await sandbox.run(['clear-position', 'alice', 'Sim101']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: "error: missing required argument 'instrument'\n" });
  });
});

describe('logs', () => {
  it('says so when the log is empty', async () => {
    expect(await sandbox.run(['logs'])).toEqual({ code: 0, stdout: 'no log entries\n', stderr: '' });
  });

  it('shows the newest entries first, one line each, with - for what is unknown', async () => {
    const store = openStore();
    await store.appendLog(logEntry({}));
    await store.appendLog(
      logEntry({
        time: OPENED_AT + 1000,
        relayUser: null,
        relayId: null,
        account: null,
        instrument: null,
        signalType: null,
        decision: 'rejected',
        reason: 'unknown relay_user',
      }),
    );
    await store.appendLog(
      logEntry({ time: OPENED_AT + 2000, relayUser: 'bob', relayId: 'scalp', signalType: 'entry', decision: 'blocked', reason: 'not-owner' }),
    );
    const result = await sandbox.run(['logs', '--limit', '2', '--utc']);
    expect(result.stdout).toBe(
      [
        'time (UTC)           decision  signal_type  relay_user  relay_id  account  instrument  reason',
        '2026-01-05 14:30:02  blocked   entry        bob         scalp     Sim101   RTY1!       not-owner',
        '2026-01-05 14:30:01  rejected  -            -           -         -        -           unknown relay_user',
        '3 entries: 1 forwarded, 1 blocked, 1 rejected (the newest 2 shown: --limit for more)',
        '',
      ].join('\n'),
    );
  });

  it("shows one user's entries as JSON", async () => {
    const store = openStore();
    await store.appendLog(logEntry({}));
    await store.appendLog(logEntry({ relayUser: 'bob' }));
    const result = await sandbox.run(['logs', 'alice', '--json']);
    expect(JSON.parse(result.stdout)).toEqual({ logs: (await store.listLogs({ relayUser: 'alice', limit: 50 })).map(logView) });
  });

  it('shows 50 entries unless told otherwise', async () => {
    const store = openStore();
    for (let i = 0; i < 60; i++) await store.appendLog(logEntry({ time: OPENED_AT + i }));
    const result = await sandbox.run(['logs', '--json']);
    expect((JSON.parse(result.stdout) as { logs: unknown[] }).logs).toHaveLength(50);
  });

  it.each(['0', '10001', '2.5', 'many'])('rejects --limit %s', async (limit) => {
    const result = await sandbox.run(['logs', '--limit', limit]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: option '--limit <n>' argument '${limit}' is invalid. --limit must be an integer from 1 to 10000.\n`,
    });
  });
});

describe('settings and misuse', () => {
  it('takes the database from --db over RELAY_DB over <data folder>/trade_relay.db, wherever it runs from', async () => {
    const flagDb = path.join(sandbox.dir, 'flag.db');
    await addAlice('--db', flagDb);
    expect(await openStore(flagDb).getUser('alice')).not.toBeNull();
    expect(await openStore(sandbox.dbPath).getUser('alice')).toBeNull();

    const { RELAY_DB: _omitted, ...noDbEnv } = sandbox.env;
    const home = path.join(sandbox.dir, 'home');
    const sub = path.join(sandbox.dir, 'some', 'sub-folder');
    fs.mkdirSync(sub, { recursive: true });
    const env = { ...noDbEnv, RELAY_HOME: home };
    const result = await sandbox.run(['add-user', '--user', 'bob', '--key', KEY, '--webhook-url', WEBHOOK_URL], { env, cwd: sub });
    const homeDb = path.join(home, 'trade_relay.db');
    expect(result.stdout).toBe(`user bob created in ${homeDb}\n`);
    expect(fs.existsSync(path.join(sub, 'trade_relay.db'))).toBe(false);
    expect((await sandbox.run(['list-users', '--json'], { env, cwd: sandbox.dir })).stdout).toContain('"relay_user": "bob"');
  });

  it('stops with the configuration problem when a setting is invalid', async () => {
    const result = await sandbox.run(['list-users'], { env: { ...sandbox.env, LOG_LEVEL: 'loud' } });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'invalid configuration:\n  - LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent\n',
    });
  });

  it.each([
    [['frobnicate'], "error: unknown command 'frobnicate'\n"],
    [['list-users', '--bogus'], "error: unknown option '--bogus'\n"],
    [['remove-user', 'alice', 'bob'], "error: too many arguments for 'remove-user'. Expected 1 argument but got 2.\n"],
  ])("exits 1 with commander's message on misuse: %j", async (args, message) => {
    expect(await sandbox.run(args)).toEqual({ code: 1, stdout: '', stderr: message });
  });

  it('prints usage and exits 1 without a command', async () => {
    const result = await sandbox.run([]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Usage: trade-relay \[options\] \[command\]/);
  });
});

describe('start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('serves /health on the port it logs and exits 0 on %s', async (signal) => {
    const child = sandbox.spawn(['start', '--port', '0', '--host', '127.0.0.1']);
    const line = await waitForLine(child, (l) => l.includes('"relay listening"'));
    const { port } = JSON.parse(line) as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
    child.kill(signal);
    expect(await exitCode(child)).toBe(0);
    expect(fs.readFileSync(path.join(sandbox.dir, 'relay.log'), 'utf8')).toContain('"relay stopped"');
  });

  it('says the port is taken when it is', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const result = await sandbox.run(['start', '--port', String(port), '--host', '127.0.0.1']);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`error: port ${port} is already in use on 127.0.0.1: stop the other program (another relay?) or choose another --port\n`);
    } finally {
      blocker.close();
    }
  });

  // Binding port 80 as root succeeds, so the privilege message is checked on the error it maps.
  it('explains that port 80 needs privileges', () => {
    const error = Object.assign(new Error('listen EACCES'), { code: 'EACCES' });
    expect(listenHint(error, '0.0.0.0', 80)?.message).toBe(
      'no permission to listen on port 80: ports below 1024 need root or CAP_NET_BIND_SERVICE on Linux (administrator on Windows). ' +
        'Run it as the service (npx trade-relay service install), or allow it once: ' +
        'sudo setcap cap_net_bind_service=+ep "$(readlink -f "$(command -v node)")"; or run on 8080 behind a reverse proxy on 80/443',
    );
  });

  it('stops with the configuration problem for an invalid port', async () => {
    const result = await sandbox.run(['start', '--port', '70000']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'invalid configuration:\n  - --port: must be a whole number from 0 to 65535\n' });
  });
});

describe('crosstrade-sim', () => {
  it('prints where it listens, answers the positions API for its key and exits 0 on SIGTERM', async () => {
    const child = sandbox.spawn(['crosstrade-sim', '--port', '0', '--key', 'try-key-123']);
    const line = await waitForLine(child, (l) => l.startsWith('CrossTrade simulator listening on '));
    const url = line.slice('CrossTrade simulator listening on '.length).trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${url}/v1/api/positions`, { headers: { authorization: 'Bearer try-key-123' } });
    expect(response.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exitCode(child)).toBe(0);
  });

  it('answers 408 with --not-connected, as CrossTrade does while NinjaTrader is not connected', async () => {
    const child = sandbox.spawn(['crosstrade-sim', '--port', '0', '--key', 'try-key-123', '--not-connected']);
    let url = '';
    await waitForLine(child, (l) => {
      if (l.startsWith('CrossTrade simulator listening on ')) url = l.slice('CrossTrade simulator listening on '.length).trim();
      return l.startsWith('NinjaTrader is not connected (--not-connected)');
    });
    const response = await fetch(`${url}/v1/api/positions`, { headers: { authorization: 'Bearer try-key-123' } });
    expect(response.status).toBe(408);
    child.kill('SIGTERM');
    expect(await exitCode(child)).toBe(0);
  });

  it('rejects a port out of range', async () => {
    const result = await sandbox.run(['crosstrade-sim', '--port', '65536']);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: "error: option '--port <n>' argument '65536' is invalid. --port must be an integer from 0 to 65535.\n",
    });
  });
});

describe('admin-token', () => {
  it('prints the stored token, generating it once, and --rotate replaces it', async () => {
    const first = await sandbox.run(['admin-token']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect((await sandbox.run(['admin-token'])).stdout).toBe(first.stdout);
    const rotated = await sandbox.run(['admin-token', '--rotate']);
    expect(rotated.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(rotated.stdout).not.toBe(first.stdout);
    expect((await sandbox.run(['admin-token'])).stdout).toBe(rotated.stdout);
    expect(await openStore().getSetting('admin_token')).toBe(rotated.stdout.trim());
  });
});

describe('migrate-db', () => {
  it('is listed in --help, with its options (its runs are in test/cli/postgres/migrate-db.test.ts)', async () => {
    const help = await sandbox.run(['--help']);
    expect(help.stdout).toMatch(/^ {2}migrate-db \[options\] +copy this installation from its SQLite file into an empty PostgreSQL database/m);
    const own = await sandbox.run(['migrate-db', '--help']);
    for (const flag of ['--from <file>', '--to <url>', '--replace', '--home <dir>']) expect(own.stdout).toContain(flag);
  });
});

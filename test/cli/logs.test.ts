import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import type { SignalLogInput, Store } from '../../src/store/store.js';
import { createCliSandbox, type CliSandbox } from '../helpers/run-cli.js';
import { entry, startTestRig, type TestRig, USER_KEY } from '../helpers/start-test-relay.js';

// `trade-relay logs` as a trader reads it (issue 8, "Logs a trader can read", cases 7 and 8).

const HOUR = 3_600_000;
const KEY_REFUSED = "CrossTrade refused the key (check the key in add-user / CrossTrade's account settings)";

let sandbox: CliSandbox;
let stores: Store[];

beforeEach(() => {
  sandbox = createCliSandbox();
  stores = [];
});

afterEach(async () => {
  for (const store of stores) await store.close();
  sandbox.cleanup();
});

function openStore(): Store {
  const store = createSqliteStore(sandbox.dbPath);
  stores.push(store);
  return store;
}

function row(overrides: Partial<SignalLogInput>): SignalLogInput {
  return {
    time: Date.now(),
    relayUser: 'alice',
    relayId: 'trend',
    account: 'Sim101',
    instrument: 'ES 03-26',
    signalType: 'entry',
    decision: 'forwarded',
    reason: 'flat',
    apiCheck: null,
    upstreamStatus: 200,
    latencyMs: 3,
    alert: 'relay_user=alice; relay_id=trend;',
    ...overrides,
  };
}

/** The decision column of each table row (between the header and the count line). */
function decisions(stdout: string): string[] {
  return stdout
    .trim()
    .split('\n')
    .slice(1, -1)
    .map((line) => line.split(/\s{2,}/)[1] ?? '');
}

describe('logs filters', () => {
  it('--since 2h, 30m, today and a date show only what came after', async () => {
    const store = openStore();
    const now = Date.now();
    await store.appendLog(row({ time: now - 3 * HOUR, relayId: 'old' }));
    await store.appendLog(row({ time: now - HOUR, relayId: 'hour' }));
    await store.appendLog(row({ time: now - 10 * 60_000, relayId: 'recent', decision: 'blocked', reason: 'not-owner' }));
    const ids = (stdout: string) => stdout.match(/\b(old|hour|recent)\b/g) ?? [];
    expect(ids((await sandbox.run(['logs', '--since', '2h'])).stdout)).toEqual(['recent', 'hour']);
    expect(ids((await sandbox.run(['logs', '--since', '30m'])).stdout)).toEqual(['recent']);
    const today = await sandbox.run(['logs', '--since', 'today', '--utc']);
    const midnight = new Date(now).setUTCHours(0, 0, 0, 0);
    expect(ids(today.stdout)).toEqual(['recent', 'hour', 'old'].filter((_, i) => [now - 10 * 60_000, now - HOUR, now - 3 * HOUR][i]! >= midnight));
    expect(ids((await sandbox.run(['logs', '--since', '2000-01-01'])).stdout)).toEqual(['recent', 'hour', 'old']);
    expect((await sandbox.run(['logs', '--since', '2999-01-01'])).stdout).toBe('no log entries\n');
  });

  it('--decision takes one decision or a comma-separated list; --relay-id one strategy', async () => {
    const store = openStore();
    await store.appendLog(row({ decision: 'forwarded' }));
    await store.appendLog(row({ decision: 'blocked', relayId: 'scalp', reason: 'not-owner' }));
    await store.appendLog(row({ decision: 'rejected', relayId: null, signalType: null, reason: 'missing relay_id' }));
    await store.appendLog(row({ decision: 'dropped', relayId: 'scalp', reason: 'duplicate' }));
    expect(decisions((await sandbox.run(['logs', '--decision', 'blocked'])).stdout)).toEqual(['blocked']);
    expect(decisions((await sandbox.run(['logs', '--decision', 'rejected, Blocked'])).stdout)).toEqual(['rejected', 'blocked']);
    const scalp = await sandbox.run(['logs', '--relay-id', 'scalp']);
    expect(decisions(scalp.stdout)).toEqual(['dropped', 'blocked']);
    expect(scalp.stdout.trim().split('\n').at(-1)).toBe('2 entries: 1 blocked, 1 dropped');
  });

  it('ends with a count per decision over everything that matches, saying when the table shows fewer', async () => {
    const store = openStore();
    for (let i = 0; i < 5; i++) await store.appendLog(row({ decision: 'forwarded' }));
    for (let i = 0; i < 3; i++) await store.appendLog(row({ decision: 'blocked', reason: 'not-owner' }));
    await store.appendLog(row({ decision: 'failed', reason: 'forward-failed: upstream-http-401; nothing was placed' }));
    const all = await sandbox.run(['logs']);
    expect(all.stdout.trim().split('\n').at(-1)).toBe('9 entries: 5 forwarded, 3 blocked, 1 failed');
    const few = await sandbox.run(['logs', '--limit', '2']);
    expect(few.stdout.trim().split('\n').at(-1)).toBe('9 entries: 5 forwarded, 3 blocked, 1 failed (the newest 2 shown: --limit for more)');
  });

  it('prints local times, named in the header, and UTC with --utc', async () => {
    openStore().appendLog(row({ time: Date.UTC(2026, 0, 5, 14, 30, 2) }));
    const env = { ...sandbox.env, TZ: 'America/New_York' };
    const local = await sandbox.run(['logs'], { env });
    expect(local.stdout.split('\n')[0]).toMatch(/^time \(America\/New_York\)\s+decision/);
    expect(local.stdout.split('\n')[1]).toMatch(/^2026-01-05 09:30:02 +forwarded/);
    const utc = await sandbox.run(['logs', '--utc'], { env });
    expect(utc.stdout.split('\n')[1]).toMatch(/^2026-01-05 14:30:02 +forwarded/);
    // --since reads a date in the same zone the times are shown in.
    expect((await sandbox.run(['logs', '--since', '2026-01-05T09:30'], { env })).stdout).toContain('forwarded');
    expect((await sandbox.run(['logs', '--since', '2026-01-05T09:31'], { env })).stdout).toBe('no log entries\n');
    expect((await sandbox.run(['logs', '--since', '2026-01-05T14:30:02Z'], { env })).stdout).toContain('forwarded');
  });

  it.each([
    [['--since', 'yesterdayish'], /^error: --since "yesterdayish" is not a time: use 30m, 2h or 7d \(ago\), today, yesterday/],
    [['--since', '2026-02-30'], /^error: --since "2026-02-30" is not a time/],
    [['--decision', 'accepted'], /^error: --decision "accepted" is not a decision: use forwarded, blocked, dropped, rejected, failed, unknown, pending/],
  ])('refuses %j with what to write instead', async (args, message) => {
    const result = await sandbox.run(['logs', ...args]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe('logs of a running relay', () => {
  let rig: TestRig;
  afterEach(async () => {
    await rig.close();
  });

  const logsOf = (...args: string[]) => sandbox.run(['logs', ...args], { env: { ...sandbox.env, RELAY_DB: rig.config.dbPath } });

  it('case 7: an alert rejected for a missing relay_id is listed under its relay_user, its text kept without the key', async () => {
    rig = await startTestRig();
    const answer = await rig.post(entry('A').replace('relay_id=A; ', `key=${USER_KEY}; `));
    expect(answer.body).toEqual({ decision: 'rejected', signal_type: null, reason: 'missing relay_id' });
    const table = await logsOf('bob');
    expect(table.stdout).toMatch(/ rejected +- +bob +- +Sim101 +ES 03-26 +missing relay_id\n/);
    expect(table.stdout.trim().split('\n').at(-1)).toBe('1 entry: 1 rejected');
    const [logged] = (JSON.parse((await logsOf('bob', '--json')).stdout) as { logs: { alert: string; relay_user: string }[] }).logs;
    expect(logged?.alert).toBe(entry('A').replace('relay_id=A; ', 'key=[removed]; ').trim());
    expect(JSON.stringify(logged)).not.toContain(USER_KEY);
    const withText = (await logsOf('bob', '--alert')).stdout.split('\n');
    expect(withText[2]).toBe(`    ${entry('A').replace('relay_id=A; ', 'key=[removed]; ').trim()}`);
    expect(withText.join('\n')).not.toContain(USER_KEY);
  });

  it('case 7: an alert with bad syntax is listed under its relay_user, a secret that lost its ; removed', async () => {
    rig = await startTestRig();
    const text = entry('A').replace('market_position=long;', 'market_position=long relay_secret=hunter2hunter2;');
    expect((await rig.post(text)).status).toBe(400);
    const listed = (JSON.parse((await logsOf('bob', '--decision', 'rejected', '--json')).stdout) as { logs: { alert: string; reason: string }[] }).logs;
    expect(listed).toHaveLength(1);
    expect(listed[0]?.reason).toBe("field market_position has relay_secret= in its value: a ';' is missing before relay_secret");
    expect(listed[0]?.alert).toContain('relay_user=bob; relay_id=A; command=PLACE;');
    expect(listed[0]?.alert).toContain('market_position=long relay_secret=[removed];');
    expect(JSON.stringify(listed)).not.toContain('hunter2');
  });

  it('case 8: a forward CrossTrade refused for its key says so in words, beside the code', async () => {
    rig = await startTestRig();
    rig.sim.failWebhook({ kind: 'status', status: 401 });
    expect((await rig.post(entry('A'))).body.decision).toBe('failed');
    const table = await logsOf('--relay-id', 'A');
    expect(table.stdout).toContain(`forward-failed: upstream-http-401; nothing was placed [${KEY_REFUSED}]`);
    expect(table.stdout.trim().split('\n').at(-1)).toBe('1 entry: 1 failed');
  });
});

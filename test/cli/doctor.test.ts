import fs from 'node:fs';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/create-simulator.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { closedPort } from '../helpers/closed-port.js';
import { type CliSandbox, createCliSandbox } from '../helpers/run-cli.js';
import { startTestRig } from '../helpers/start-test-relay.js';

const GOOD_KEY = 'ct-good-key-0123456789';
const WRONG_KEY = 'ct-wrong-key-9876543210';

let sandbox: CliSandbox;
let sim: Simulator;
let port: number;

beforeEach(async () => {
  sandbox = createCliSandbox();
  sim = await startSimulator({ keys: [GOOD_KEY] });
  port = await closedPort();
  sandbox.env.RELAY_HOME = sandbox.dir;
  sandbox.env.RELAY_PORT = String(port);
  sandbox.env.CROSSTRADE_API_URL = sim.url;
});

afterEach(async () => {
  await sim.close();
  sandbox.cleanup();
});

async function addUser(relayUser: string, key: string, webhookUrl = sim.webhookUrl(GOOD_KEY), paper = false): Promise<void> {
  const store = createSqliteStore(sandbox.dbPath);
  await store.saveUser({ relayUser, crosstradeKey: key, webhookUrl, paper });
  await store.close();
}

/** The checklist line that starts with `[status]` and names the label. */
function line(stdout: string, label: string): string {
  return stdout.split('\n').find((l) => l.slice(7).startsWith(`${label}:`)) ?? `(no line "${label}")`;
}

/** The fix printed under the line of the label. */
function fixOf(stdout: string, label: string): string {
  const lines = stdout.split('\n');
  const at = lines.indexOf(line(stdout, label));
  return lines[at + 1]?.trim() ?? '';
}

function expectNoSecret(text: string, ...secrets: string[]) {
  for (const secret of [...secrets, sim.webhookUrl(GOOD_KEY).split('/v1/send/')[1] ?? '']) expect(text).not.toContain(secret);
}

describe('trade-relay doctor', () => {
  it('lists each settings problem on its own line, as the relay does', async () => {
    fs.writeFileSync(`${sandbox.dir}/settings.env`, 'RELAY_PORT=abc\nFOO=1\n');
    const result = await sandbox.run(['doctor'], { env: { ...sandbox.env, RELAY_PORT: undefined } });
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').slice(0, 4)).toEqual([
      '[FAIL] settings: invalid configuration:',
      `       - ${sandbox.dir}/settings.env line 2: unknown setting FOO (the names are those of the configuration table in README.md)`,
      `       - RELAY_PORT (${sandbox.dir}/settings.env line 1): must be a whole number from 0 to 65535`,
      '       fix: correct the flags, variables or settings.env lines named, then run doctor again',
    ]);
  });

  it('passes with a good key: the API is reachable, the key accepted, NinjaTrader connected', async () => {
    await addUser('bob', GOOD_KEY);
    const result = await sandbox.run(['doctor']);
    expect(result.code).toBe(0);
    expect(line(result.stdout, 'user bob: CrossTrade API reachable')).toBe(`[ok]   user bob: CrossTrade API reachable: ${sim.url}`);
    expect(line(result.stdout, 'user bob: CrossTrade key accepted')).toBe('[ok]   user bob: CrossTrade key accepted: yes');
    expect(line(result.stdout, 'user bob: NinjaTrader connected')).toBe('[ok]   user bob: NinjaTrader connected: yes (0 open positions)');
    expect(line(result.stdout, 'data folder')).toBe(`[ok]   data folder: ${sandbox.dir} (RELAY_HOME)`);
    expect(line(result.stdout, 'port')).toBe(`[ok]   port: ${port} is free on 0.0.0.0`);
    expect(line(result.stdout, 'TradingView port')).toMatch(/^\[warn\] TradingView port: \d+: TradingView sends webhooks to ports 80 and 443 only$/);
    expect(line(result.stdout, 'user bob: webhook URL')).toMatch(
      /^\[warn\] user bob: webhook URL: http:\/\/127\.0\.0\.1:\d+\/\*\*\*\* is not CrossTrade's host/,
    );
    expect(result.stdout).toMatch(/all checks passed \(\d+ warnings?\)\n$/);
    expectNoSecret(result.stdout + result.stderr, GOOD_KEY);
  });

  it('fails when CrossTrade refuses the key (401), and says so', async () => {
    await addUser('bob', WRONG_KEY);
    const result = await sandbox.run(['doctor', 'bob']);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'user bob: CrossTrade key accepted')).toBe(
      '[FAIL] user bob: CrossTrade key accepted: no: CrossTrade refused the key (HTTP 401)',
    );
    expect(fixOf(result.stdout, 'user bob: CrossTrade key accepted')).toBe(
      'fix: copy the API key from your CrossTrade account and save it again: npx trade-relay add-user --user bob',
    );
    expect(result.stdout).toMatch(/1 check failed\n$/);
    expectNoSecret(result.stdout + result.stderr, WRONG_KEY);
  });

  it('fails when NinjaTrader is not connected (408)', async () => {
    await addUser('bob', GOOD_KEY);
    sim.failApi({ kind: 'status', status: 408 });
    const result = await sandbox.run(['doctor']);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'user bob: CrossTrade API reachable')).toMatch(/^\[ok\]/);
    expect(line(result.stdout, 'user bob: NinjaTrader connected')).toBe(
      '[FAIL] user bob: NinjaTrader connected: no: NinjaTrader is not connected to CrossTrade (HTTP 408); every position check fails and entries are blocked',
    );
    expect(fixOf(result.stdout, 'user bob: NinjaTrader connected')).toBe(
      'fix: start NinjaTrader 8, log in and enable the CrossTrade add-on, then run doctor again',
    );
  });

  it('fails when the CrossTrade API cannot be reached', async () => {
    await addUser('bob', GOOD_KEY);
    const closed = await closedPort();
    const result = await sandbox.run(['doctor'], { env: { ...sandbox.env, CROSSTRADE_API_URL: `http://127.0.0.1:${closed}` } });
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'user bob: CrossTrade API reachable')).toBe(
      `[FAIL] user bob: CrossTrade API reachable: no answer from http://127.0.0.1:${closed} (ECONNREFUSED)`,
    );
    expect(line(result.stdout, 'user bob: CrossTrade key accepted')).toBe('(no line "user bob: CrossTrade key accepted")');
  });

  it('only warns about a paper user whose key CrossTrade refuses: it does not need CrossTrade yet', async () => {
    await addUser('paula', WRONG_KEY, sim.webhookUrl(GOOD_KEY), true);
    const result = await sandbox.run(['doctor', 'paula']);
    expect(result.code).toBe(0);
    expect(line(result.stdout, 'user paula: mode')).toBe('[ok]   user paula: mode: paper: orders go to the paper book, never to CrossTrade');
    expect(line(result.stdout, 'user paula: CrossTrade key accepted')).toMatch(/^\[warn\] .*paper mode: not needed until the user goes live\)$/);
  });

  it('checks only the user named, and fails for a user that does not exist', async () => {
    await addUser('bob', GOOD_KEY);
    await addUser('carol', WRONG_KEY);
    const bob = await sandbox.run(['doctor', 'bob']);
    expect(bob.code).toBe(0);
    expect(bob.stdout).not.toContain('carol');
    const nobody = await sandbox.run(['doctor', 'dave']);
    expect(nobody.code).toBe(1);
    expect(line(nobody.stdout, 'users')).toBe('[FAIL] users: no relay_user "dave"');
  });

  it('fails for a missing database, names its path, and does not create it', async () => {
    const missing = `${sandbox.dir}/missing.db`;
    const result = await sandbox.run(['doctor', '--db', missing]);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'database')).toBe(`[FAIL] database: ${missing} does not exist`);
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('fails when there is no user yet', async () => {
    const result = await sandbox.run(['doctor']);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'users')).toBe('[FAIL] users: no relay user yet: every alert would be rejected');
    expect(fixOf(result.stdout, 'users')).toBe('fix: npx trade-relay add-user');
  });

  it('warns when the database is readable by other accounts', async () => {
    await addUser('bob', GOOD_KEY);
    fs.chmodSync(sandbox.dbPath, 0o644);
    const result = await sandbox.run(['doctor']);
    expect(line(result.stdout, 'database')).toMatch(/^\[warn\] database: .*relay\.db readable by other accounts on this machine; it holds CrossTrade keys$/);
    expect(fixOf(result.stdout, 'database')).toBe(`fix: chmod 600 "${sandbox.dbPath}"`);
  });

  it('fails when another program holds the port', async () => {
    await addUser('bob', GOOD_KEY);
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
    try {
      const result = await sandbox.run(['doctor']);
      expect(result.code).toBe(1);
      expect(line(result.stdout, 'port')).toBe(`[FAIL] port: ${port} is in use by another program`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('counts a port held by a running relay as fine', async () => {
    const rig = await startTestRig({ host: '0.0.0.0' });
    try {
      const result = await sandbox.run(['doctor'], {
        env: { ...sandbox.env, RELAY_PORT: String(rig.relay.port), RELAY_DB: rig.config.dbPath, CROSSTRADE_API_URL: rig.sim.url },
      });
      expect(line(result.stdout, 'port')).toBe(`[ok]   port: ${rig.relay.port}: a relay is running on it`);
      expect(line(result.stdout, 'user bob: NinjaTrader connected')).toBe('[ok]   user bob: NinjaTrader connected: yes (0 open positions)');
      expect(result.code).toBe(0);
    } finally {
      await rig.close();
    }
  });

  it('names the admin token source in effect, never the token', async () => {
    await addUser('bob', GOOD_KEY);
    const token = 'doctor-admin-token-0123456789';
    const fromEnv = await sandbox.run(['doctor'], { env: { ...sandbox.env, RELAY_ADMIN_TOKEN: token } });
    expect(line(fromEnv.stdout, 'admin token')).toBe(
      '[ok]   admin token: RELAY_ADMIN_TOKEN is set in this environment: a relay started with these settings uses it, not the stored token',
    );
    expect(fromEnv.stdout).not.toContain(token);
    const none = await sandbox.run(['doctor']);
    expect(line(none.stdout, 'admin token')).toBe('[warn] admin token: none yet: the management API stays closed until one exists');
    const stored = (await sandbox.run(['admin-token'])).stdout.trim();
    const after = await sandbox.run(['doctor']);
    expect(line(after.stdout, 'admin token')).toBe('[ok]   admin token: stored in the database (npx trade-relay admin-token prints it)');
    expect(after.stdout).not.toContain(stored);
    fs.writeFileSync(`${sandbox.dir}/settings.env`, `RELAY_ADMIN_TOKEN=${token}\n`);
    const fromFile = await sandbox.run(['doctor']);
    expect(line(fromFile.stdout, 'admin token')).toBe(
      `[ok]   admin token: RELAY_ADMIN_TOKEN is set in ${sandbox.dir}/settings.env: a relay started with these settings uses it, not the stored token`,
    );
    expect(fromFile.stdout).not.toContain(token);
  });
});
